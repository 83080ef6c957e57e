import { readFileSync } from "node:fs";
import { garbageProbe } from "../../simulator/scriptRunner";
import type { SimulatedFleet } from "../../simulator/server";
import {
  answer,
  connect,
  connectError,
  direct,
  hostNamed,
  logPathOf,
  packageBase64,
  packagePath,
  packageSha256,
  packageBytes,
  run,
  scripts,
  startFleet,
  steps,
  execScript,
  scriptLines,
  nextStep,
} from "./helpers";
import { createHash } from "node:crypto";

const dll = { "Mapsproccntl.dll": "13.3.600.0" };

describe("simulated faults", () => {
  let fleet: SimulatedFleet;
  beforeEach(async () => {
    fleet = await startFleet({
      engines: [
        { name: "REFUSE", faults: { refuseConnections: true } },
        { name: "SILENT", faults: { hangAfterConnect: true } },
        { name: "LOCKED", faults: { rejectAuth: true } },
        { name: "HANG", files: dll, faults: { hangOnScript: "shutdown-complus" } },
        { name: "DROPAFTER", files: dll, faults: { dropConnectionAfter: "deactivate-engine" } },
        { name: "DROPDURING", files: dll, complus: "stopped", faults: { dropConnectionDuring: "install-package" } },
        { name: "BUSY", files: dll, complus: "stopped", faults: { installExitCodes: [1618, 1603, 0] } },
        { name: "GARBAGE", files: dll, faults: { probeAnswer: "garbage" } },
        { name: "EMPTY", files: dll, faults: { probeAnswer: "empty" } },
        { name: "BADVERSION", files: dll, faults: { probeAnswer: "bad-version" } },
        { name: "CORRUPT", files: dll, complus: "stopped", faults: { corruptStagedPackage: true } },
      ],
    });
  });
  afterEach(() => fleet.stop());
  const host = (name: string) => hostNamed(fleet, name);

  test("refuseConnections: nothing listens on the host's port", async () => {
    expect(host("REFUSE").port).toBeGreaterThan(0);
    // Below the range listen(0) hands out, so no other listener of this machine is given the port.
    const [firstEphemeral] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    expect(host("REFUSE").port).toBeLessThan(Number(firstEphemeral));
    expect(await connectError(host("REFUSE"))).toBe(
      `connect ECONNREFUSED ${host("REFUSE").address}:${host("REFUSE").port}`,
    );
    expect(fleet.connectionCount("REFUSE")).toBe(0);
    expect(fleet.log()).toEqual([]);
  });

  test("hangAfterConnect: TCP is accepted and no SSH banner ever comes", async () => {
    expect(await connectError(host("SILENT"), { readyTimeout: 300 })).toBe("Timed out while waiting for handshake");
    expect(fleet.connectionCount("SILENT")).toBe(1);
    expect(steps(fleet)).toEqual([
      { seq: 1, host: "SILENT", script: "connect", detail: "fault hangAfterConnect: TCP accepted, no SSH banner" },
    ]);
  });

  test("rejectAuth: even the right password is refused", async () => {
    expect(await connectError(host("LOCKED"))).toBe("All configured authentication methods failed");
    expect(steps(fleet)).toEqual([
      { seq: 1, host: "LOCKED", script: "connect" },
      { seq: 2, host: "LOCKED", script: "auth-rejected", detail: "password for mps-admin: fault rejectAuth" },
    ]);
  });

  test("hangOnScript: the script is accepted and never answered until the client leaves; it has no effect", async () => {
    const client = await connect(host("HANG"));
    const hung = nextStep(fleet, (step) => step.script === "shutdown-complus");
    const pending = execScript(client, scripts.shutdown(), direct);
    let settled = false;
    void pending.then(() => (settled = true));
    await hung;
    // A whole exchange on another connection: an answer to the hung script would have come first.
    expect(await run(host("HANG"), scripts.deactivate("HANG"))).toEqual(answer(["engine=deactivated", "exit=0"]));
    expect(settled).toBe(false);
    client.end();
    expect(await pending).toEqual({ stdout: "", stderr: "", exitCode: null });
    expect(fleet.host("HANG")).toMatchObject({ complus: "running", complusResponding: true });
    expect(steps(fleet)).toEqual([
      { seq: 1, host: "HANG", script: "connect" },
      { seq: 2, host: "HANG", script: "shutdown-complus", detail: "fault hangOnScript: accepted and never answered" },
      { seq: 3, host: "HANG", script: "connect" },
      { seq: 4, host: "HANG", script: "deactivate-engine", exitCode: 0 },
    ]);
  });

  test("dropConnectionAfter: the script takes effect, then the connection dies before the exit status", async () => {
    expect(await run(host("DROPAFTER"), scripts.deactivate("DROPAFTER"))).toEqual({
      stdout: "",
      stderr: "",
      exitCode: null,
    });
    expect(fleet.host("DROPAFTER").engine).toBe("deactivated");
    expect(steps(fleet)).toEqual([
      { seq: 1, host: "DROPAFTER", script: "connect" },
      {
        seq: 2,
        host: "DROPAFTER",
        script: "deactivate-engine",
        exitCode: 0,
        detail: "fault dropConnectionAfter: the script took effect; connection destroyed before its exit status",
      },
    ]);
  });

  test("dropConnectionDuring install-package: the connection dies mid-install, and Windows Installer finishes the install", async () => {
    await run(host("DROPDURING"), scripts.stage());
    expect(await run(host("DROPDURING"), scripts.install("DROPDURING"))).toEqual({
      stdout: "",
      stderr: "",
      exitCode: null,
    });
    // With no install-package delay, the install is over by the time the client has seen the drop.
    expect(fleet.host("DROPDURING")).toMatchObject({
      files: { "Mapsproccntl.dll": "13.3.609.1" },
      restartPending: false,
      installing: false,
      installAttempts: 1,
      installLogs: [logPathOf("DROPDURING")],
    });
    expect(steps(fleet).slice(-2)).toEqual([
      {
        seq: 4,
        host: "DROPDURING",
        script: "install-package",
        detail:
          "fault dropConnectionDuring: connection destroyed while msiexec ran; Windows Installer carries on with the install",
      },
      {
        seq: 5,
        host: "DROPDURING",
        script: "install-package",
        exitCode: 0,
        detail: "Windows Installer finished the interrupted install on its own: msiexec exit code 0",
      },
    ]);
  });

  test("installExitCodes: each attempt returns the next code; failed attempts change nothing; then normal behaviour", async () => {
    await run(host("BUSY"), scripts.stage());
    const install = () => run(host("BUSY"), scripts.install("BUSY"));
    const installAnswer = (code: number) => ({
      ...answer([`msiexec.exit=${code}`, `log=${logPathOf("BUSY")}`, `exit=${code}`]),
      exitCode: code,
    });

    expect(await install()).toEqual(installAnswer(1618));
    expect(scriptLines(await run(host("BUSY"), scripts.readLog("BUSY", "4"))).slice(0, 2)).toEqual([
      `log:MSI (c) (3C:40) [11:42:00:000]: Command Line: "C:\\WINDOWS\\system32\\msiexec.exe" /i "${packagePath}" /qn /norestart /L*v "${logPathOf("BUSY")}"`,
      "log:MSI (c) (3C:40) [11:42:00:000]: Failed to grab execution mutex. Another installation is already in progress. Complete that installation before proceeding with this install.",
    ]);
    expect(fleet.host("BUSY").files).toEqual(dll);
    expect(await install()).toEqual(installAnswer(1603));
    expect(fleet.host("BUSY").files).toEqual(dll);
    expect(await install()).toEqual(installAnswer(0));
    expect(fleet.host("BUSY").files).toEqual({ "Mapsproccntl.dll": "13.3.609.1" });
    expect(await install()).toEqual(installAnswer(0));
    expect(fleet.host("BUSY").installAttempts).toBe(4);
  });

  test("probeAnswer garbage: lines no probe prints, ending in exit=0", async () => {
    expect(await run(host("GARBAGE"), scripts.probe("GARBAGE"))).toEqual(answer([...garbageProbe]));
    expect(garbageProbe.at(-1)).toBe("exit=0");
  });

  test("probeAnswer empty: nothing at all, exit 0", async () => {
    expect(await run(host("EMPTY"), scripts.probe("EMPTY"))).toEqual(answer([]));
  });

  test("probeAnswer bad-version: a file version of three numbers", async () => {
    expect(await run(host("BADVERSION"), scripts.probe("BADVERSION"))).toEqual(
      answer([
        "file:Mapsproccntl.dll=13.3.600",
        "engine=active",
        "complus.instances=1",
        "complus=running",
        "complus.responding=yes",
        "renames=0",
        "exit=0",
      ]),
    );
  });

  test("corruptStagedPackage: the stored bytes differ, so does their sha256, and the install fails", async () => {
    const corrupted = Buffer.from(packageBytes);
    corrupted[0] = corrupted[0]! ^ 0xff;
    const corruptedSha = createHash("sha256").update(corrupted).digest("hex");
    expect(corruptedSha).not.toBe(packageSha256);
    expect(await run(host("CORRUPT"), scripts.stage(packageBase64))).toEqual(
      answer([`sha256=${corruptedSha}`, `bytes=${packageBytes.length}`, `path=${packagePath}`, "exit=0"]),
    );
    expect((await run(host("CORRUPT"), scripts.install("CORRUPT"))).exitCode).toBe(1620);
    expect(fleet.host("CORRUPT").files).toEqual(dll);
  });

  test("a fault can be cleared out of band, as when the network is fixed", async () => {
    fleet.alter("DROPAFTER", { faults: {} });
    expect(await run(host("DROPAFTER"), scripts.deactivate("DROPAFTER"))).toEqual(
      answer(["engine=deactivated", "exit=0"]),
    );
  });
});
