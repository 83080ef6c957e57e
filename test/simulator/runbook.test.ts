import type { SimulatedFleet } from "../../simulator/server";
import {
  answer,
  connect,
  connectError,
  dllPath,
  fixedTime,
  heldDllRename,
  hostNamed,
  logPathOf,
  packageBase64,
  packagePath,
  packageBytes,
  packageSha256,
  renameLines,
  run,
  runLine,
  scripts,
  sent,
  startFleet,
  steps,
  via,
  scriptLines,
} from "./helpers";
import { kbRunbookScripts } from "../support/kbRunbook";

const probeLines = (
  version: string,
  engine: string,
  instances: number,
  restart: "none" | "pending",
  responding: "yes" | "no" = "yes",
): string[] => [
  `file:Mapsproccntl.dll=${version}`,
  `engine=${engine}`,
  `complus.instances=${instances}`,
  ...(instances > 0 ? ["complus=running", `complus.responding=${responding}`] : ["complus=stopped"]),
  ...renameLines(restart === "pending" ? [heldDllRename] : []),
  "exit=0",
];

const logHeader = [
  "=== Verbose logging started: 5/8/2008  11:42:00  Build type: SHIP UNICODE 3.01.4001.5512  Calling process: C:\\WINDOWS\\system32\\msiexec.exe ===",
  "MSI (c) (3C:40) [11:42:00:000]: Resetting cached policy values",
  "MSI (c) (3C:40) [11:42:00:000]: Machine policy value 'Debug' is 0",
  `MSI (c) (3C:40) [11:42:00:000]: Command Line: "C:\\WINDOWS\\system32\\msiexec.exe" /i "${packagePath}" /qn /norestart /L*v "${logPathOf("MPS01")}"`,
];
const logFooter = (code: number): string[] => [
  `MSI (c) (3C:40) [11:42:00:000]: MainEngineThread is returning ${code}`,
  "=== Verbose logging stopped: 5/8/2008  11:42:00 ===",
];

describe("the KB952089 runbook against a simulated engine", () => {
  let fleet: SimulatedFleet;
  beforeEach(async () => {
    fleet = await startFleet({
      engines: [
        { name: "MPS01", files: { "Mapsproccntl.dll": "13.3.600.0" } },
        { name: "MPS03", files: { "Mapsproccntl.dll": "13.3.609.1" } },
        { name: "MPS04", files: { "Mapsproccntl.dll": "13.3.1000.0" } },
        { name: "MPS09" },
      ],
    });
  });
  afterEach(() => fleet.stop());
  const mps01 = () => hostNamed(fleet, "MPS01");

  test("deactivate, shut down, install, start, activate: each answer and the recorded order", async () => {
    expect(await run(mps01(), scripts.probe("MPS01"))).toEqual(answer(probeLines("13.3.600.0", "active", 1, "none")));
    expect(await run(mps01(), scripts.stage())).toEqual(
      answer([
        `sha256=${packageSha256}`,
        `bytes=${Buffer.from(packageBase64, "base64").length}`,
        `path=${packagePath}`,
        "exit=0",
      ]),
    );
    expect(await run(mps01(), scripts.deactivate("MPS01"))).toEqual(answer(["engine=deactivated", "exit=0"]));
    expect(await run(mps01(), scripts.shutdown())).toEqual(
      answer(["complus.instances=0", "complus=stopped", "exit=0"]),
    );
    expect(await run(mps01(), scripts.install("MPS01"))).toEqual(
      answer(["msiexec.exit=0", `log=${logPathOf("MPS01")}`, "exit=0"]),
    );
    expect(await run(mps01(), scripts.probe("MPS01"))).toEqual(
      answer(probeLines("13.3.609.1", "deactivated", 0, "none")),
    );
    expect(await run(mps01(), scripts.start())).toEqual(answer(["complus.instances=1", "complus=running", "exit=0"]));
    expect(await run(mps01(), scripts.activate("MPS01"))).toEqual(answer(["engine=active", "exit=0"]));
    expect(await run(mps01(), scripts.checkResponse())).toEqual(
      answer(["complus.instances=1", "complus.responding=yes", "exit=0"]),
    );
    expect(await run(mps01(), scripts.readLog("MPS01"))).toEqual(
      answer(
        [
          ...logHeader,
          "MSI (s) (A8:B4) [11:42:00:000]: Product: KB952089 -- Installation started.",
          `MSI (s) (A8:B4) [11:42:00:000]: File: ${dllPath};\tOverwrite;\tWon't patch;\tExisting file is of a lesser version`,
          "MSI (s) (A8:B4) [11:42:00:000]: Product: KB952089 -- Installation completed successfully.",
          "MSI (s) (A8:B4) [11:42:00:000]: Windows Installer installed the product. Product Name: KB952089. Product Version: 13.3.609.1. Product Language: 1033. Installation success or error status: 0.",
          ...logFooter(0),
          "exit=0",
        ].map((line) => (line === "exit=0" ? line : `log:${line}`)),
      ),
    );

    const order = [...kbRunbookScripts, "read-install-log"];
    expect(fleet.log()).toEqual(
      order.flatMap((script, index) => [
        { seq: index * 2 + 1, at: fixedTime, host: "MPS01", script: "connect" },
        { seq: index * 2 + 2, at: fixedTime, host: "MPS01", script, exitCode: 0 },
      ]),
    );
    expect(fleet.host("MPS01")).toEqual({
      name: "MPS01",
      binDir: "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin",
      files: { "Mapsproccntl.dll": "13.3.609.1" },
      engine: "active",
      complus: "running",
      complusInstances: 1,
      restartPending: false,
      pendingFiles: {},
      pendingRenames: [],
      installing: false,
      complusResponding: true,
      stagedPackages: [{ path: packagePath, bytes: packageBytes.length, sha256: packageSha256 }],
      installLogs: [logPathOf("MPS01")],
      installAttempts: 1,
      faults: {},
    });
  });

  test("engines at or after 13.3.609.1, and one without the file, probe as they are", async () => {
    expect(await run(hostNamed(fleet, "MPS03"), scripts.probe("MPS03"))).toEqual(
      answer(probeLines("13.3.609.1", "active", 1, "none")),
    );
    expect(await run(hostNamed(fleet, "MPS04"), scripts.probe("MPS04"))).toEqual(
      answer(probeLines("13.3.1000.0", "active", 1, "none")),
    );
    expect(await run(hostNamed(fleet, "MPS09"), scripts.probe("MPS09"))).toEqual(
      answer(probeLines("missing", "active", 1, "none")),
    );
    const elsewhere = {
      ...scripts.probe("MPS03"),
      params: { ...scripts.probe("MPS03").params, FilePaths: ["D:\\Other\\Mapsproccntl.dll", dllPath.toUpperCase()] },
    };
    expect(await run(hostNamed(fleet, "MPS03"), elsewhere)).toEqual(
      answer([
        "file:Mapsproccntl.dll=missing",
        "file:MAPSPROCCNTL.DLL=13.3.609.1",
        ...probeLines("", "active", 1, "none").slice(1),
      ]),
    );
  });

  test("rule: installing while COM+ runs leaves the DLL held: 3010, restart pending, versions unchanged until the restart", async () => {
    await run(mps01(), scripts.stage());
    await run(mps01(), scripts.deactivate("MPS01"));
    expect(await run(mps01(), scripts.install("MPS01"))).toEqual({
      ...answer(["msiexec.exit=3010", `log=${logPathOf("MPS01")}`, "exit=3010"]),
      exitCode: 3010,
    });
    expect(await run(mps01(), scripts.probe("MPS01"))).toEqual(
      answer(probeLines("13.3.600.0", "deactivated", 1, "pending")),
    );
    expect(fleet.host("MPS01")).toMatchObject({
      restartPending: true,
      files: { "Mapsproccntl.dll": "13.3.600.0" },
      pendingFiles: { "Mapsproccntl.dll": "13.3.609.1" },
    });

    const log = scriptLines(await run(mps01(), scripts.readLog("MPS01", "5")));
    expect(log).toEqual([
      "log:MSI (s) (A8:B4) [11:42:00:000]: Product: KB952089 -- Installation completed successfully.",
      "log:MSI (s) (A8:B4) [11:42:00:000]: Windows Installer requires a system restart. Product Name: KB952089. Product Version: 13.3.609.1. Product Language: 1033. Type of System Restart: 1. Reason for Restart: 1.",
      "log:MSI (s) (A8:B4) [11:42:00:000]: Windows Installer installed the product. Product Name: KB952089. Product Version: 13.3.609.1. Product Language: 1033. Installation success or error status: 0.",
      "log:MSI (c) (3C:40) [11:42:00:000]: MainEngineThread is returning 3010",
      "log:=== Verbose logging stopped: 5/8/2008  11:42:00 ===",
      "exit=0",
      "",
    ]);

    fleet.restartHost("MPS01");
    // COM+ starts on demand: after the restart a deactivated engine has no instance.
    expect(await run(mps01(), scripts.probe("MPS01"))).toEqual(
      answer(probeLines("13.3.609.1", "deactivated", 0, "none")),
    );
  });

  test("rule: shutting COM+ down while the engine is active is the KB symptom: recorded, seen by the probe's bounded wait, cleared by a restart", async () => {
    expect(await run(mps01(), scripts.shutdown())).toEqual(
      answer(["complus.instances=0", "complus=stopped", "exit=0"]),
    );
    expect(await run(mps01(), scripts.start())).toEqual(answer(["complus.instances=1", "complus=running", "exit=0"]));
    const asked = Date.now();
    expect(await run(mps01(), scripts.probe("MPS01"))).toEqual(
      answer(probeLines("13.3.600.0", "active", 1, "none", "no")),
    );
    // Wait-Job -Timeout runs out before the answer: ResponseTimeoutSeconds is 1 in these scripts.
    expect(Date.now() - asked).toBeGreaterThanOrEqual(950);
    expect(await run(mps01(), scripts.checkResponse())).toEqual(
      answer(["complus.instances=1", "complus.responding=no", "exit=0"]),
    );
    expect(fleet.host("MPS01").complusResponding).toBe(false);
    expect(
      steps(fleet).filter((step) => "script" in step && (step as { script: string }).script !== "connect"),
    ).toEqual([
      { seq: 2, host: "MPS01", script: "shutdown-complus", exitCode: 0 },
      {
        seq: 3,
        host: "MPS01",
        script: "symptom",
        detail:
          "shutdown-complus: COM+ application 'Provisioning Engine' was shut down while engine MPS01 was active: the component stops responding until the server restarts (KB952089)",
      },
      { seq: 5, host: "MPS01", script: "start-complus", exitCode: 0 },
      { seq: 7, host: "MPS01", script: "probe", exitCode: 0 },
      { seq: 9, host: "MPS01", script: "check-response", exitCode: 0 },
    ]);
    fleet.restartHost("MPS01");
    expect(fleet.host("MPS01")).toMatchObject({ complusResponding: true, complus: "running", engine: "active" });
    expect(await run(mps01(), scripts.checkResponse())).toEqual(
      answer(["complus.instances=1", "complus.responding=yes", "exit=0"]),
    );
  });

  test("rule: install needs the staged package, and a file that is not a Windows Installer package is refused (1620)", async () => {
    await run(mps01(), scripts.deactivate("MPS01"));
    await run(mps01(), scripts.shutdown());
    expect(await run(mps01(), scripts.install("MPS01"))).toEqual({
      ...answer(["msiexec.exit=1619", `log=${logPathOf("MPS01")}`, "exit=1619"]),
      exitCode: 1619,
    });
    expect(scriptLines(await run(mps01(), scripts.readLog("MPS01", "4"))).join("\r\n")).toBe(
      [
        `log:MSI (c) (3C:40) [11:42:00:000]: Note: 1: 2203 2: ${packagePath} 3: -2147287038`,
        "log:MSI (c) (3C:40) [11:42:00:000]: This installation package could not be opened. Verify that the package exists and that you can access it.",
        ...logFooter(1619).map((line) => `log:${line}`),
        "exit=0",
        "",
      ].join("\r\n"),
    );

    await run(mps01(), scripts.stage(Buffer.from("MZ not an msi").toString("base64")));
    expect(await run(mps01(), scripts.install("MPS01"))).toEqual({
      ...answer(["msiexec.exit=1620", `log=${logPathOf("MPS01")}`, "exit=1620"]),
      exitCode: 1620,
    });
    expect(fleet.host("MPS01")).toMatchObject({
      files: { "Mapsproccntl.dll": "13.3.600.0" },
      restartPending: false,
      installAttempts: 2,
    });
  });

  test("rule: msiexec never replaces a file with an older or equal version", async () => {
    const mps04 = hostNamed(fleet, "MPS04");
    await run(mps04, scripts.stage());
    await run(mps04, scripts.shutdown());
    expect(await run(mps04, scripts.install("MPS04"))).toEqual(
      answer(["msiexec.exit=0", `log=${logPathOf("MPS04")}`, "exit=0"]),
    );
    expect(fleet.host("MPS04").files).toEqual({ "Mapsproccntl.dll": "13.3.1000.0" });
    expect(scriptLines(await run(mps04, scripts.readLog("MPS04", "6")))[1]).toBe(
      `log:MSI (s) (A8:B4) [11:42:00:000]: File: ${dllPath};\tWon't Overwrite;\tWon't patch;\tExisting file is of a greater version`,
    );
  });

  test("a script that fails prints error= and exit=1 after what it printed, as its trap does", async () => {
    expect(await run(mps01(), scripts.probe("MPS02"))).toEqual({
      ...answer([
        "file:Mapsproccntl.dll=13.3.600.0",
        `error=Exception calling "IsActive" with "1" argument(s): "No provisioning engine named 'MPS02' is registered on this server."`,
        "exit=1",
      ]),
      exitCode: 1,
    });
    const wrongProgId = {
      ...scripts.deactivate("MPS01"),
      params: { EngineName: "MPS01", EngineControlProgId: "Other.Control" },
    };
    expect(await run(mps01(), wrongProgId)).toEqual({
      ...answer(["error=Cannot load COM type Other.Control.", "exit=1"]),
      exitCode: 1,
    });
    const wrongApplication = { ...scripts.start(), params: { ComPlusApplication: "Provisioning" } };
    expect(await run(mps01(), wrongApplication)).toEqual({
      ...answer(["error=COM+ application not found: Provisioning", "exit=1"]),
      exitCode: 1,
    });
    expect(await run(mps01(), scripts.stage("not base64!"))).toEqual({
      ...answer([
        `error=Exception calling "FromBase64String" with "1" argument(s): "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters. "`,
        "exit=1",
      ]),
      exitCode: 1,
    });
    expect(await run(mps01(), scripts.readLog("MPS01"))).toEqual(
      answer([`error=no install log at ${logPathOf("MPS01")}`, "exit=0"]),
    );
    expect(fleet.host("MPS01")).toMatchObject({ engine: "active", complus: "running", stagedPackages: [] });
  });

  test("a command line that is not byte for byte a product script is refused and changes nothing", async () => {
    const refused = (reason: string) => ({
      stdout: "",
      stderr: `mps-simulator: refusing the command: ${reason}\r\n`,
      exitCode: 1,
    });
    const notBootstrap =
      "not the mps-hotfix bootstrap (powershell.exe -EncodedCommand of the script that reads its script from standard input)";
    expect(await runLine(mps01(), "cmd.exe /c shutdown /r")).toEqual(refused(notBootstrap));
    // The script on standard input, edited: the value of Deactivate no longer discarded.
    const { commandLine, stdin } = sent(scripts.deactivate("MPS01"));
    const script = Buffer.from(stdin.split("\n")[0]!, "base64").toString("utf8");
    const edited = script.replace("[void]$engine.Deactivate(", "$engine.Deactivate(");
    expect(edited).not.toBe(script);
    expect(await runLine(mps01(), commandLine, `${Buffer.from(edited, "utf8").toString("base64")}\n`)).toEqual(
      refused("script deactivate-engine differs from the product's deactivate-engine script"),
    );
    expect(await runLine(mps01(), commandLine, sent(scripts.deactivate("MPS01"), via("MPS01")).stdin)).toEqual(
      refused("this is an MPS engine server; it runs engine scripts, not relay scripts"),
    );
    expect(fleet.host("MPS01").engine).toBe("active");
    expect(steps(fleet).filter((step) => (step as { script: string }).script === "rejected-command")).toEqual([
      {
        seq: 2,
        host: "MPS01",
        script: "rejected-command",
        detail:
          "not the mps-hotfix bootstrap (powershell.exe -EncodedCommand of the script that reads its script from standard input)",
      },
      {
        seq: 4,
        host: "MPS01",
        script: "rejected-command",
        detail: "script deactivate-engine differs from the product's deactivate-engine script",
      },
      {
        seq: 6,
        host: "MPS01",
        script: "rejected-command",
        detail: "this is an MPS engine server; it runs engine scripts, not relay scripts",
      },
    ]);
  });

  test("an interactive shell is declined with a message", async () => {
    const client = await connect(mps01());
    const result = await new Promise<{ stderr: string; exitCode: number | null }>((resolve, reject) => {
      client.shell(false, (error, channel) => {
        if (error) {
          reject(error);
          return;
        }
        let stderr = "";
        let exitCode: number | null = null;
        channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        channel.resume();
        channel.on("exit", (code: number | null) => (exitCode = code));
        channel.on("close", () => resolve({ stderr, exitCode }));
      });
    });
    client.end();
    expect(result).toEqual({
      stderr: "This simulated host runs only the commands mps-hotfix sends (exec), not a shell.\r\n",
      exitCode: 1,
    });
  });

  test("password authentication against the fleet credentials, and the host key the fleet reports", async () => {
    expect(await connectError(mps01(), { password: "wrong" })).toBe("All configured authentication methods failed");
    expect(await connectError(mps01(), { user: "administrator" })).toBe("All configured authentication methods failed");
    expect(await connectError({ ...mps01(), hostKeySha256: hostNamed(fleet, "MPS03").hostKeySha256 })).toBe(
      "Host denied (verification failed)",
    );
    expect(steps(fleet)).toEqual([
      { seq: 1, host: "MPS01", script: "connect" },
      { seq: 2, host: "MPS01", script: "auth-rejected", detail: "password for mps-admin: wrong user or password" },
      { seq: 3, host: "MPS01", script: "connect" },
      { seq: 4, host: "MPS01", script: "auth-rejected", detail: "password for administrator: wrong user or password" },
      { seq: 5, host: "MPS01", script: "connect" },
    ]);
    const fingerprints = fleet.hosts.map((host) => host.hostKeySha256);
    expect(new Set(fingerprints).size).toBe(4);
    for (const fingerprint of fingerprints) expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
