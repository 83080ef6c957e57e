import type { Client } from "ssh2";
import { renderScript, type HostScript } from "../../components/host/scriptAssembly";
import { bootstrapCommandLine, invocationFor } from "../../components/host/invocation";
import { hostScripts, installLogPath } from "../../components/runbook/hostScripts";
import { parseInput, readCommandLine } from "../../simulator/commandLine";
import { commandLineLimits, type SimulatedFleet } from "../../simulator/server";
import { defaultSettings, engineTarget, kb952089, kbFile } from "../support/targets";
import { connect, direct, hostNamed, run, runLine, startFleet, steps, type ExecResult } from "./helpers";

/**
 * cmd.exe's `echo <text>| <command>`: echo writes the text and CRLF into the pipe, the command's
 * standard input, which then ends. The simulator accepts it with the bootstrap after the pipe.
 */

/** The product's own scripts for MPS01 with its defaults: every script of a maintenance but stage-package. */
const target = engineTarget();
const pkg = target.packages[0]!;
const product = {
  probe: hostScripts.probe(target),
  deactivate: hostScripts.deactivateEngine(target),
  start: hostScripts.startComPlus(target),
};
const payloadLess: readonly HostScript[] = [
  product.probe,
  product.deactivate,
  hostScripts.shutdownComPlus(target, defaultSettings.complusShutdownTimeoutSeconds),
  hostScripts.installPackage(target, pkg, installLogPath(target, pkg, new Date("2008-05-08T11:42:00Z"), 1)),
  product.start,
  hostScripts.activateEngine(target),
  hostScripts.checkResponse(target),
  hostScripts.readInstallLog(installLogPath(target, pkg, new Date("2008-05-08T11:42:00Z"), 1), 50),
];

/** The script's line of the product's standard input: base64 of its UTF-8 text. */
const scriptLine = (script: HostScript): string => Buffer.from(renderScript(script), "utf8").toString("base64");

const echoLine = (script: HostScript, pipe = "| "): string =>
  `echo ${scriptLine(script)}${pipe}${bootstrapCommandLine}`;

function rejection(commandLine: string, shell: "cmd" | "powershell" = "cmd"): string {
  const result = readCommandLine(commandLine, shell);
  if (result.ok) throw new Error("accepted");
  return result.reason;
}

describe("echo piped into the bootstrap, as cmd.exe runs it", () => {
  test.each(payloadLess.map((script) => [script.name, script] as const))(
    "%s: the bootstrap reads the script from echo's line, with an empty payload as the product sends it",
    (_name, script) => {
      for (const pipe of ["| ", "|", "|  \t"]) {
        const accepted = readCommandLine(echoLine(script, pipe), "cmd");
        expect(accepted).toEqual({ ok: true, stdin: { from: "echo", text: `${scriptLine(script)}\r\n` } });
        if (!accepted.ok || accepted.stdin.from !== "echo") throw new Error("not piped from echo");
        expect(parseInput(accepted.stdin.text)).toEqual(parseInput(invocationFor(script, direct).stdin));
        expect(parseInput(accepted.stdin.text)).toMatchObject({ ok: true, command: { payload: "" } });
      }
    },
  );

  test("the bootstrap alone still reads the SSH channel", () => {
    expect(readCommandLine(bootstrapCommandLine, "cmd")).toEqual({ ok: true, stdin: { from: "channel" } });
    expect(readCommandLine(bootstrapCommandLine, "powershell")).toEqual({ ok: true, stdin: { from: "channel" } });
  });

  test("echo's text runs up to the pipe, trailing spaces included: the script's line is then not base64", () => {
    const line = `echo ${scriptLine(product.start)} | ${bootstrapCommandLine}`;
    const accepted = readCommandLine(line, "cmd");
    expect(accepted).toEqual({ ok: true, stdin: { from: "echo", text: `${scriptLine(product.start)} \r\n` } });
    if (!accepted.ok || accepted.stdin.from !== "echo") throw new Error("not piped from echo");
    expect(parseInput(accepted.stdin.text)).toEqual({
      ok: false,
      reason: "the first line of standard input is not base64",
    });
  });

  test.each(["&", "<", ">", "^", '"', "%"])("refuses echo's text holding cmd.exe's %s", (special) => {
    const line = `echo ${scriptLine(product.start)}${special}x| ${bootstrapCommandLine}`;
    expect(rejection(line)).toBe(
      `echo's text holds ${JSON.stringify(special)}, which cmd.exe does not pass to echo as it is (it would need escaping with ^)`,
    );
  });

  test.each([
    ["nothing", "echo | "],
    ["on", "echo on| "],
    ["OFF", "echo  OFF | "],
    ["/?", "echo /?| "],
  ])("refuses echo %s, which prints no text", (_what, start) => {
    expect(rejection(`${start}${bootstrapCommandLine}`)).toMatch(
      /^echo ".*" shows or sets the echo setting, or its help: it prints no text$/,
    );
  });

  test.each([
    ["another command", `echo ${scriptLine(product.start)}| more`],
    ["the bootstrap with a command after it", `${echoLine(product.start)} & del C:\\x`],
    ["the bootstrap piped on", `${echoLine(product.start)}|more`],
    ["the script itself", `echo ${scriptLine(product.start)}| ${renderScript(product.start)}`],
  ])("refuses %s after the pipe", (_what, line) => {
    expect(rejection(line)).toBe(
      "after echo's pipe: not the mps-hotfix bootstrap (powershell.exe -EncodedCommand of the script that reads its script from standard input)",
    );
  });

  test("refuses echo without a pipe, and echo on a host whose default shell is PowerShell", () => {
    expect(rejection(`echo ${scriptLine(product.start)}`)).toBe("echo without a pipe: nothing reaches the bootstrap");
    expect(rejection(echoLine(product.start), "powershell")).toBe(
      "echo piped into the bootstrap is modeled for cmd.exe only; this host's default shell is PowerShell",
    );
  });
});

/** Runs a command line and leaves standard input open, as Ansible's raw module does. */
function execLeavingInputOpen(client: Client, commandLine: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(commandLine, (error, channel) => {
      if (error) {
        reject(error);
        return;
      }
      let stdout = "";
      let stderr = "";
      let exitCode: number | null = null;
      channel.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      channel.on("exit", (code: number | null) => (exitCode = code));
      channel.on("close", () => resolve({ stdout, stderr, exitCode }));
    });
  });
}

describe("a simulated host given an echo pipe", () => {
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  const start = async (): Promise<SimulatedFleet> =>
    startFleet({ engines: [{ name: "MPS01", files: { "Mapsproccntl.dll": "13.3.600.0" } }] });

  test("answers the probe as it answers the product, without waiting for the channel's input to end", async () => {
    fleet = await start();
    const mps01 = hostNamed(fleet, "MPS01");
    const client = await connect(mps01);
    try {
      const piped = await execLeavingInputOpen(client, echoLine(product.probe));
      expect(piped).toEqual(await run(mps01, product.probe));
      expect(piped.stdout).toContain("file:Mapsproccntl.dll=13.3.600.0\r\n");
      expect(await execLeavingInputOpen(client, echoLine(product.deactivate))).toMatchObject({
        exitCode: 0,
      });
    } finally {
      client.end();
    }
    expect(fleet.host("MPS01")).toMatchObject({ engine: "deactivated" });
    expect(steps(fleet).filter((step) => "script" in step && step.script === "rejected-command")).toEqual([]);
  });

  test("refuses cmd.exe's metacharacters in echo's text, over SSH", async () => {
    fleet = await start();
    const line = `echo ${scriptLine(product.start)}&x| ${bootstrapCommandLine}`;
    expect(await runLine(hostNamed(fleet, "MPS01"), line)).toEqual({
      stdout: "",
      stderr:
        'mps-simulator: refusing the command: echo\'s text holds "&", which cmd.exe does not pass to echo as it is (it would need escaping with ^)\r\n',
      exitCode: 1,
    });
    expect(steps(fleet).map((step) => ("script" in step ? step.script : undefined))).toEqual([
      "connect",
      "rejected-command",
    ]);
  });

  test("refuses a whole line over cmd.exe's 8,191 characters, the script in echo's text included", async () => {
    fleet = await start();
    const files = Object.fromEntries(
      [kbFile.name, ...Array.from({ length: 60 }, (_, i) => `File${i}.dll`)].map((f) => [f, kbFile.version]),
    );
    const probe = hostScripts.probe(engineTarget({ files: { [kb952089.id]: files } }));
    const line = echoLine(probe);
    expect(line.length).toBeGreaterThan(commandLineLimits.cmd);
    expect(bootstrapCommandLine.length).toBeLessThan(commandLineLimits.cmd);
    expect(await runLine(hostNamed(fleet, "MPS01"), line)).toEqual({
      stdout: "",
      stderr: "The command line is too long.\r\n",
      exitCode: 1,
    });
    expect(steps(fleet).slice(-1)).toEqual([
      {
        seq: 2,
        host: "MPS01",
        script: "rejected-command",
        detail: `cmd.exe (the default shell) refused a command line of ${line.length} characters; it takes at most 8191`,
      },
    ]);
  });
});
