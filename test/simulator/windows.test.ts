import { utils as sshUtils } from "ssh2";
import { powershellCommandLine } from "../../components/host/powershell";
import { decodeHostOutput } from "../../components/host/answers";
import { encodeOem } from "../../components/host/codePages";
import { renderRelayScript, renderScript, type HostScript } from "../../components/host/scriptAssembly";
import { bootstrapCommandLine } from "../../components/host/invocation";
import { uncapturedOutput } from "../../simulator/scriptRunner";
import { commandLineLimits } from "../../simulator/server";
import type { SimulatedFleet, SimulatedHost } from "../../simulator/server";
import {
  answer,
  binDir,
  connect,
  dllPath,
  execScript,
  heldDllRename,
  hostNamed,
  nextActivity,
  nextStep,
  logPathOf,
  renameLines,
  run,
  runLine,
  scripts,
  sent,
  stagingDir,
  startFleet,
  steps,
  via,
} from "./helpers";

/**
 * Rules of Windows the simulator holds the product to, beyond the KB's own (see the simulator
 * README's "Rules and the Microsoft pages they follow").
 */

let fleet: SimulatedFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

describe("a value PowerShell does not capture is output", () => {
  const deactivate = renderScript(scripts.deactivate("MPS01"));

  it("the simulated engine control's Deactivate and Activate return a value, as COM methods do", () => {
    const uncaptured = deactivate.replace("[void]$engine.Deactivate(", "$engine.Deactivate(");
    expect(uncapturedOutput(uncaptured, "$engine.Deactivate(", "True")).toEqual(["True"]);
    for (const discarded of [
      "[void]$engine.Deactivate(",
      "$null = $engine.Deactivate(",
      "$was = $engine.Deactivate(",
    ]) {
      expect(
        uncapturedOutput(deactivate.replace("[void]$engine.Deactivate(", discarded), "$engine.Deactivate(", "True"),
      ).toEqual([]);
    }
    expect(
      uncapturedOutput(uncaptured.replace("($EngineName)", "($EngineName) | Out-Null"), "$engine.Deactivate(", "True"),
    ).toEqual([]);
  });

  it("the product's scripts discard them: the answers are their key=value lines only", async () => {
    fleet = await startFleet({ engines: [{ name: "MPS01", files: { "Mapsproccntl.dll": "13.3.600.0" } }] });
    const mps01 = hostNamed(fleet, "MPS01");
    expect(await run(mps01, scripts.deactivate("MPS01"))).toEqual(answer(["engine=deactivated", "exit=0"]));
    expect(await run(mps01, scripts.activate("MPS01"))).toEqual(answer(["engine=active", "exit=0"]));
  });
});

describe("the default shell of OpenSSH for Windows", () => {
  const relayedProbeOfOld = (files: number): string =>
    powershellCommandLine(
      renderRelayScript(
        "mps05.corp.example",
        renderScript({
          ...scripts.probe("MPS05"),
          params: {
            ...scripts.probe("MPS05").params,
            FilePaths: Array.from({ length: files }, (_, i) => `${binDir}\\File${i}.dll`),
          },
        }),
      ),
    );

  it("is cmd.exe by default, which refuses a command line over 8,191 characters, as the whole script on it once was", async () => {
    fleet = await startFleet({ engines: [{ name: "MPS05", ssh: false }], relays: [{ name: "RELAY01" }] });
    expect(fleet.host("MPS05")).toBeDefined();
    const tooLong = relayedProbeOfOld(1);
    expect(tooLong.length).toBeGreaterThan(commandLineLimits.cmd);
    expect(await runLine(hostNamed(fleet, "RELAY01"), tooLong)).toEqual({
      stdout: "",
      stderr: "The command line is too long.\r\n",
      exitCode: 1,
    });
    expect(steps(fleet).slice(-1)).toEqual([
      {
        seq: 2,
        host: "RELAY01",
        script: "rejected-command",
        detail: `cmd.exe (the default shell) refused a command line of ${tooLong.length} characters; it takes at most 8191`,
      },
    ]);
  });

  it("with PowerShell as the default shell, such a line reaches PowerShell (which the simulator then refuses as not the bootstrap)", async () => {
    fleet = await startFleet({
      engines: [{ name: "MPS05", ssh: false }],
      relays: [{ name: "RELAY01", defaultShell: "powershell" }],
    });
    expect((await runLine(hostNamed(fleet, "RELAY01"), relayedProbeOfOld(1))).stderr).toMatch(
      /^mps-simulator: refusing the command: not the mps-hotfix bootstrap/,
    );
    // Past 32,767 characters no process starts, whatever the shell.
    const longest = Array.from({ length: 200 }, (_, i) => relayedProbeOfOld(i)).find(
      (line) => line.length > commandLineLimits.powershell,
    )!;
    expect(await runLine(hostNamed(fleet, "RELAY01"), longest)).toEqual({
      stdout: "",
      stderr: "Program 'powershell.exe' failed to run: The filename or extension is too long.\r\n",
      exitCode: 1,
    });
  });

  it.each(["cmd", "powershell"] as const)(
    "%s runs the product's relayed probe of 300 files: its command line is the short bootstrap, the script comes on standard input",
    async (defaultShell) => {
      fleet = await startFleet({
        engines: [{ name: "MPS05", ssh: false, files: { "Mapsproccntl.dll": "13.3.600.0" } }],
        relays: [{ name: "RELAY01", defaultShell }],
      });
      const files = Array.from({ length: 300 }, (_, i) => `${binDir}\\File${i}.dll`);
      const probe = {
        ...scripts.probe("MPS05"),
        params: { ...scripts.probe("MPS05").params, FilePaths: [dllPath, ...files] },
      };
      expect(sent(probe, via("MPS05")).commandLine).toBe(bootstrapCommandLine);
      expect(bootstrapCommandLine.length).toBeLessThan(commandLineLimits.cmd);
      const result = await run(hostNamed(fleet, "RELAY01"), probe, via("MPS05"));
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain("file:File299.dll=missing\r\n");
    },
  );
});

describe("PendingFileRenameOperations holds other software's renames too", () => {
  it("the probe reports every entry, as MoveFileEx stored it; a restart carries them out", async () => {
    const antivirus = { from: "C:\\Program Files\\Av\\engine.new", to: "C:\\Program Files\\Av\\engine.dll" };
    const deletion = { from: "C:\\Windows\\Temp\\setup.tmp" };
    fleet = await startFleet({
      engines: [{ name: "MPS01", files: { "Mapsproccntl.dll": "13.3.600.0" }, pendingRenames: [antivirus, deletion] }],
    });
    const mps01 = hostNamed(fleet, "MPS01");
    const probeLines = (renames: Parameters<typeof renameLines>[0]): string[] => [
      "file:Mapsproccntl.dll=13.3.600.0",
      "engine=active",
      "complus.instances=1",
      "complus=running",
      "complus.responding=yes",
      ...renameLines(renames),
      "exit=0",
    ];
    expect(await run(mps01, scripts.probe("MPS01"))).toEqual(answer(probeLines([antivirus, deletion])));
    expect(fleet.host("MPS01")).toMatchObject({
      restartPending: false,
      pendingRenames: [antivirus, { ...deletion, to: "" }],
    });
    // An install while COM+ runs adds msiexec's own rename of the held file.
    await run(mps01, scripts.stage());
    expect((await run(mps01, scripts.install("MPS01"))).exitCode).toBe(3010);
    expect(await run(mps01, scripts.probe("MPS01"))).toEqual(answer(probeLines([antivirus, deletion, heldDllRename])));
    fleet.restartHost("MPS01");
    expect(fleet.host("MPS01")).toMatchObject({ restartPending: false, pendingRenames: [] });
    expect(await run(hostNamed(fleet, "MPS01"), scripts.probe("MPS01"))).toEqual(
      answer([...probeLines([]).map((l) => l.replace("13.3.600.0", "13.3.609.1"))]),
    );
  });
});

describe("the relay's second hop", () => {
  const keys = sshUtils.generateKeyPairSync("ed25519");

  it("a relay session logged on with a key carries no credentials: Invoke-Command to the engine is denied (exit 20)", async () => {
    fleet = await startFleet(
      { engines: [{ name: "MPS05", ssh: false }], relays: [{ name: "RELAY01" }] },
      {},
      { publicKey: keys.public },
    );
    const client = await connect(hostNamed(fleet, "RELAY01"), { privateKey: keys.private });
    try {
      expect(await execScript(client, scripts.probe("MPS05"), via("MPS05"))).toEqual({
        ...answer([
          "relay.winrm=Connecting to remote server MPS05 failed with the following error message : Access is denied. For more information, see the about_Remote_Troubleshooting Help topic.",
          "exit=20",
        ]),
        exitCode: 20,
      });
    } finally {
      client.end();
    }
    // With the account's password, the same relay reaches the engine.
    expect((await run(hostNamed(fleet, "RELAY01"), scripts.probe("MPS05"), via("MPS05"))).exitCode).toBe(0);
  });

  it("an error raised on the engine outside the script's trap is relay.error and exit 21, not a WinRM failure", async () => {
    fleet = await startFleet({
      engines: [{ name: "MPS05", ssh: false, faults: { remoteScriptError: "probe" } }],
      relays: [{ name: "RELAY01" }],
    });
    expect(await run(hostNamed(fleet, "RELAY01"), scripts.probe("MPS05"), via("MPS05"))).toEqual({
      ...answer([
        "relay.error=The WSMan provider host process did not return a proper response. A provider in the host process may have behaved improperly.",
        "exit=21",
      ]),
      exitCode: 21,
    });
  });
});

describe("an install does not end when the session that started it drops", () => {
  const status = (engine: string) => ({ name: "installer-status", params: { LogPath: logPathOf(engine) } }) as const;

  it("Windows Installer carries on for the install's run time, holding its mutex: a second msiexec gets 1618, then the install completes", async () => {
    fleet = await startFleet(
      {
        engines: [
          {
            name: "MPS01",
            files: { "Mapsproccntl.dll": "13.3.600.0" },
            complus: "stopped",
            faults: { dropConnectionDuring: "install-package" },
          },
        ],
      },
      { stepDelaysMs: { "install-package": 800 } },
    );
    const mps01 = hostNamed(fleet, "MPS01");
    await run(mps01, scripts.stage());
    const finished = nextStep(fleet, (step) => step.script === "install-package" && step.exitCode === 0);
    const started = Date.now();
    expect((await run(mps01, scripts.install("MPS01"))).exitCode).toBeNull();
    expect(fleet.host("MPS01")).toMatchObject({ installing: true, files: { "Mapsproccntl.dll": "13.3.600.0" } });
    expect(await run(mps01, status("MPS01"))).toEqual(answer(["installer=running", "exit=0"]));
    // A second msiexec meanwhile: 1618 at once, with its own log saying why.
    const second = {
      ...scripts.install("MPS01"),
      params: { ...scripts.install("MPS01").params, LogPath: `${logPathOf("MPS01")}.2` },
    };
    fleet.alter("MPS01", { faults: {} });
    expect(await run(mps01, second)).toEqual({
      ...answer(["msiexec.exit=1618", `log=${logPathOf("MPS01")}.2`, "exit=1618"]),
      exitCode: 1618,
    });
    await finished;
    expect(fleet.host("MPS01").installing).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(fleet.host("MPS01").files).toEqual({ "Mapsproccntl.dll": "13.3.609.1" });
    expect(await run(mps01, status("MPS01"))).toEqual(
      answer(["installer=idle", "log=present", "log.result=0", "exit=0"]),
    );
    expect(steps(fleet).filter((s) => (s as { script: string }).script === "install-package")).toEqual([
      expect.objectContaining({
        detail: expect.stringContaining("Windows Installer carries on with the install") as unknown,
      }),
      expect.objectContaining({ exitCode: 1618 }),
      expect.objectContaining({
        exitCode: 0,
        detail: "Windows Installer finished the interrupted install on its own: msiexec exit code 0",
      }),
    ]);
  });

  it("a client that gives up on a slow install does not stop it either", async () => {
    fleet = await startFleet(
      { engines: [{ name: "MPS01", files: { "Mapsproccntl.dll": "13.3.600.0" }, complus: "stopped" }] },
      { stepDelaysMs: { "install-package": 500 } },
    );
    const mps01 = hostNamed(fleet, "MPS01");
    await run(mps01, scripts.stage());
    const client = await connect(mps01);
    const installStarted = nextActivity(fleet, "script-started", (activity) => activity.script === "install-package");
    const finished = nextStep(fleet, (step) => step.script === "install-package");
    const pending = execScript(client, scripts.install("MPS01"));
    await installStarted;
    expect(fleet.host("MPS01").installing).toBe(true);
    client.destroy();
    expect(await pending).toEqual({ stdout: "", stderr: "", exitCode: null });
    await finished;
    expect(fleet.host("MPS01").installing).toBe(false);
    expect(fleet.host("MPS01").files).toEqual({ "Mapsproccntl.dll": "13.3.609.1" });
    expect(steps(fleet).slice(-1)).toEqual([
      expect.objectContaining({
        script: "install-package",
        exitCode: 0,
        detail:
          "the client disconnected while msiexec ran; Windows Installer finished the install on its own: msiexec exit code 0",
      }),
    ]);
  });

  it("an install that never started leaves no log: the installer is idle and the log absent", async () => {
    fleet = await startFleet({ engines: [{ name: "MPS01" }] });
    expect(await run(hostNamed(fleet, "MPS01"), status("MPS01"))).toEqual(
      answer(["installer=idle", "log=absent", "log.result=none", "exit=0"]),
    );
  });
});

describe("PowerShell 2.0 writes redirected output in the console's code page", () => {
  /** The bytes a host sent for a script, as they came. */
  async function rawAnswer(host: SimulatedHost, script: HostScript): Promise<Buffer> {
    const client = await connect(host);
    const { commandLine, stdin } = sent(script);
    try {
      return await new Promise<Buffer>((resolve, reject) => {
        client.exec(commandLine, (error, channel) => {
          if (error) {
            reject(error);
            return;
          }
          const chunks: Buffer[] = [];
          channel.on("data", (chunk: Buffer) => chunks.push(chunk));
          channel.on("close", () => resolve(Buffer.concat(chunks)));
          channel.end(stdin);
        });
      });
    } finally {
      client.end();
    }
  }

  const denied = `L'accès au chemin d'accès '${stagingDir}\\KB952089.msi' est refusé.`;

  it("the bootstrap's switch to UTF-8 takes: a French server's error arrives as UTF-8, declared as 65001", async () => {
    fleet = await startFleet({
      engines: [{ name: "MPS01", uiCulture: "fr-FR", oemCodePage: 850, faults: { stagingAccessDenied: true } }],
    });
    const bytes = await rawAnswer(hostNamed(fleet, "MPS01"), scripts.stage());
    expect(bytes.toString("utf8")).toBe(["encoding=65001", `error=${denied}`, "exit=1", ""].join("\r\n"));
  });

  it.each([
    [850, "fr-FR", denied],
    [437, "de-DE", `Der Zugriff auf den Pfad "${stagingDir}\\KB952089.msi" wurde verweigert.`],
  ] as const)(
    "where the console refuses the switch, the answer is in OEM code page %i, declared so: read as UTF-8 it is garbled",
    async (oemCodePage, uiCulture, message) => {
      fleet = await startFleet({
        engines: [
          {
            name: "MPS01",
            uiCulture,
            oemCodePage,
            faults: { stagingAccessDenied: true, consoleEncodingLocked: true },
          },
        ],
      });
      const bytes = await rawAnswer(hostNamed(fleet, "MPS01"), { ...scripts.stage(), stdin: "" });
      const text = [`encoding=${oemCodePage}`, `error=${message}`, "exit=1", ""].join("\r\n");
      expect(bytes).toEqual(encodeOem(text, oemCodePage));
      expect(decodeHostOutput("stage-package", bytes)).toEqual({
        text: text.slice(text.indexOf("\n") + 1),
        codePage: oemCodePage,
      });
      if (/[^\x20-\x7e]/.test(message)) expect(bytes.toString("utf8")).not.toContain(message);
    },
  );
});
