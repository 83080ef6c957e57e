import { inRotation, notRespondingReason } from "../../components/domain/observation";
import { hostPath, type EngineTarget, type MaintenanceSettings } from "../../components/domain/target";
import type { ScriptName } from "../../components/host/scriptNames";
import { TransportError } from "../../components/host/sshSession";
import { stepNames, type StepEvent, type StepName } from "../../components/runbook/steps";
import { Runbook } from "../../components/runbook/runbook";
import { RunbookError } from "../../components/runbook/runbookError";
import { rotationNotice } from "../../components/runbook/operatorMessages";
import {
  failedInstallLog,
  failedWith,
  fakeHost,
  msiexec,
  oldVersion,
  output,
  stageReports,
  asHost,
  type FakeHostOptions,
} from "../support/fakeHost";
import { bringBackScripts, kbRunbookScripts, takeDownScripts } from "../support/kbRunbook";
import {
  defaultHost,
  engineTarget,
  inventedFile,
  inventedHotfix,
  kb952089,
  kbFile,
  maintenanceSettings,
  packageBase64Of,
  simulatedInstalls,
} from "../support/targets";

const target = engineTarget();
const kbPackage = target.packages[0]!;
const kb = kb952089.id;
const dll = kbFile.name;
const version = kbFile.version;
/** What the simulated KB952089 package installs: the catalog's version. */
const installed = simulatedInstalls(kb)[dll]!;

/** MPS01 carrying KB952089 and, after it in catalog order, the invented second hotfix. */
const twoHotfixes = engineTarget({ hotfixes: [kb952089, inventedHotfix] });
const otherPackage = twoHotfixes.packages[1]!;
const other = inventedHotfix.id;

const compliantFiles = { [dll]: version };
/** The pending rename the fake host reports for a held file: its new copy replaces it at the next restart. */
const heldRename = `${defaultHost.binDir}\\MSI4F2A.tmp -> ${hostPath(defaultHost.binDir, dll)}`;
const settings: Partial<MaintenanceSettings> = { stepTimeoutSeconds: 60, installRetryDelaySeconds: 1.5 };
const now = new Date("2024-03-01T10:20:30.456Z");
const logOf = (hotfix: string, attempt: number): string =>
  hostPath(defaultHost.stagingDir, `${hotfix}-20240301-102030-attempt${attempt}.log`);
const stagedPath = hostPath(defaultHost.stagingDir, kbPackage.file);

/** The install log's tail as the error quotes it. */
function tailText(lines: readonly string[]): string {
  return `\n  last lines of the install log:\n${lines.map((l) => `    ${l}`).join("\n")}`;
}
const kbTail = (code: number): string => tailText(failedInstallLog(kbPackage.file, code));

interface RigOptions {
  readonly target?: EngineTarget;
  readonly settings?: Partial<MaintenanceSettings>;
  readonly interrupted?: () => boolean;
}

/** A runbook for MPS01 against a fake host (KB952089's file out of date, in rotation, by default). */
function rig(hostOptions: FakeHostOptions = {}, options: RigOptions = {}) {
  const host = fakeHost(hostOptions);
  const events: StepEvent[] = [];
  const sleeps: number[] = [];
  const runbook = new Runbook(options.target ?? target, {
    runner: host,
    settings: maintenanceSettings({ ...settings, ...options.settings }),
    packageBase64: packageBase64Of,
    onStep: (event) => void events.push(event),
    sleep: async (ms) => void sleeps.push(ms),
    now: () => now,
    ...(options.interrupted === undefined ? {} : { interrupted: options.interrupted }),
  });
  const steps = (): StepName[] => events.filter((e) => e.status === "started").map((e) => e.step);
  const statusesOf = (step: StepName, hotfixId?: string): string[] =>
    events.filter((e) => e.step === step && (hotfixId === undefined || e.hotfixId === hotfixId)).map((e) => e.status);
  return { host, runbook, events, sleeps, steps, statusesOf };
}

async function failure(promise: Promise<unknown>): Promise<RunbookError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RunbookError) return error;
    throw error;
  }
  throw new Error("the runbook succeeded where it should fail");
}

/**
 * The KB's order in a maintenance that installed: deactivate, shut COM+ down, install; then start
 * COM+ and activate the engine. A log without any of these steps fails: it is not a maintenance
 * in the KB's order, whatever order its other steps came in.
 */
function expectKbOrder(scripts: readonly ScriptName[]): void {
  for (const step of ["deactivate-engine", "shutdown-complus", "install-package", "start-complus", "activate-engine"]) {
    expect(scripts).toContain(step);
  }
  const deactivate = scripts.indexOf("deactivate-engine");
  const shutdown = scripts.indexOf("shutdown-complus");
  expect(shutdown).toBeGreaterThan(deactivate);
  expect(scripts.indexOf("install-package")).toBeGreaterThan(shutdown);
  const start = scripts.lastIndexOf("start-complus");
  expect(start).toBeGreaterThan(scripts.lastIndexOf("install-package"));
  expect(scripts.lastIndexOf("activate-engine")).toBeGreaterThan(start);
}

const restoreSteps: StepName[] = ["start-complus", "activate-engine"];
/**
 * A patch runs every step, in the order the product lists them, except the two it runs only after
 * a failure: reading the install log, and asking whether Windows Installer is still busy.
 */
const afterFailureOnly: readonly StepName[] = ["read-install-log", "installer-status"];
const patchedSteps: StepName[] = stepNames.filter((step) => !afterFailureOnly.includes(step));

describe("expectKbOrder", () => {
  it("passes a patch's scripts and fails them without the install or without the activation", async () => {
    const { host, runbook } = rig();
    await runbook.converge();
    expect(() => expectKbOrder(host.scripts)).not.toThrow();
    const without = (step: ScriptName): ScriptName[] => host.scripts.filter((script) => script !== step);
    expect(() => expectKbOrder(without("install-package"))).toThrow(/Expected value: "install-package"/);
    expect(() => expectKbOrder(without("activate-engine"))).toThrow(/Expected value: "activate-engine"/);
    // And in the wrong order: activating before COM+ starts.
    const swapped = host.scripts.map((script) =>
      script === "activate-engine" ? "start-complus" : script === "start-complus" ? "activate-engine" : script,
    );
    expect(() => expectKbOrder(swapped)).toThrow(/toBeGreaterThan/);
  });
});

describe("Runbook.converge", () => {
  it("(a) patches a drifted engine in the KB's order and reports what the final probe saw", async () => {
    const { host, runbook, steps, events, sleeps } = rig();
    expect(installed).toBe(version);
    await expect(runbook.converge()).resolves.toEqual({ files: { [kb]: { [dll]: installed } }, ...inRotation });
    expect(steps()).toEqual(patchedSteps);
    expect(host.scripts).toEqual(kbRunbookScripts);
    expectKbOrder(host.scripts);
    expect(sleeps).toEqual([]);
    expect(events.filter((e) => e.status === "failed" || e.status === "retrying")).toEqual([]);
    expect(events.filter((e) => e.status === "succeeded").map((e) => e.step)).toEqual(steps());
    expect(events.every((e) => e.engine === "MPS01")).toBe(true);
    // The hotfix's own steps name it; the engine's steps do not.
    expect(events.filter((e) => "hotfixId" in e).map((e) => [e.step, e.hotfixId])).toEqual([
      ["stage-package", kb],
      ["stage-package", kb],
      ["install-package", kb],
      ["install-package", kb],
    ]);
    expect(host.state).toMatchObject({
      files: { [dll]: installed },
      engine: "active",
      complus: "running",
      restart: "none",
    });
  });

  it("(a) gives each script the target's values, the package on stdin, and the step timeouts", async () => {
    const { host, runbook } = rig();
    await runbook.converge();
    const engine = { EngineName: "MPS01", EngineControlProgId: defaultHost.engineControlProgId };
    expect(host.calls).toEqual([
      {
        script: "probe",
        params: {
          FilePaths: [hostPath(defaultHost.binDir, dll)],
          ...engine,
          ComPlusApplication: defaultHost.comPlusApplication,
          ResponseTimeoutSeconds: String(defaultHost.responseTimeoutSeconds),
        },
        stdin: undefined,
        timeoutMs: 60_000,
      },
      {
        script: "stage-package",
        params: { StagingDir: defaultHost.stagingDir, PackageFile: kbPackage.file },
        stdin: packageBase64Of(kbPackage),
        timeoutMs: 60_000,
      },
      { script: "deactivate-engine", params: engine, stdin: undefined, timeoutMs: 60_000 },
      {
        script: "shutdown-complus",
        params: { ComPlusApplication: defaultHost.comPlusApplication, TimeoutSeconds: "120" },
        stdin: undefined,
        // The shutdown may take its own timeout plus a margin, longer than an ordinary step.
        timeoutMs: 150_000,
      },
      {
        script: "install-package",
        params: { PackagePath: stagedPath, LogPath: logOf(kb, 1) },
        stdin: undefined,
        timeoutMs: 60_000,
      },
      expect.objectContaining({ script: "probe", timeoutMs: 60_000 }),
      {
        script: "start-complus",
        params: { ComPlusApplication: defaultHost.comPlusApplication },
        stdin: undefined,
        timeoutMs: 60_000,
      },
      { script: "activate-engine", params: engine, stdin: undefined, timeoutMs: 60_000 },
      {
        script: "check-response",
        params: {
          ComPlusApplication: defaultHost.comPlusApplication,
          ResponseTimeoutSeconds: String(defaultHost.responseTimeoutSeconds),
        },
        stdin: undefined,
        timeoutMs: 60_000,
      },
    ]);
  });

  it("(b) only probes a compliant engine", async () => {
    const { host, runbook, steps } = rig({ files: compliantFiles });
    await expect(runbook.converge()).resolves.toEqual({ files: { [kb]: compliantFiles }, ...inRotation });
    expect(host.scripts).toEqual(["probe"]);
    expect(steps()).toEqual(["probe"]);
  });

  it("(b) only probes an engine with a later version ('or later' satisfies)", async () => {
    const { host, runbook } = rig({ files: { [dll]: "13.3.1000.0" } });
    await expect(runbook.converge()).resolves.toEqual({ files: { [kb]: { [dll]: "13.3.1000.0" } }, ...inRotation });
    expect(host.scripts).toEqual(["probe"]);
  });

  it("(c) puts back an engine left deactivated with COM+ stopped whose files are fine, without reinstalling", async () => {
    const { host, runbook, steps } = rig({ files: compliantFiles, engine: "deactivated", complus: "stopped" });
    await expect(runbook.converge()).resolves.toEqual({ files: { [kb]: compliantFiles }, ...inRotation });
    expect(host.scripts).toEqual(["probe", "start-complus", "activate-engine", "check-response"]);
    expect(steps()).toEqual(["probe", "start-complus", "activate-engine", "check-response"]);
  });

  it("(c) only activates a deactivated engine whose COM+ application runs", async () => {
    const { host, runbook } = rig({ files: compliantFiles, engine: "deactivated" });
    await runbook.converge();
    expect(host.scripts).toEqual(["probe", "activate-engine", "check-response"]);
  });

  it("(c) only starts a stopped COM+ application of an active engine", async () => {
    const { host, runbook } = rig({ files: compliantFiles, complus: "stopped" });
    await runbook.converge();
    expect(host.scripts).toEqual(["probe", "start-complus", "check-response"]);
  });

  it("patches an engine whose file is missing", async () => {
    const { host, runbook } = rig({ files: {} });
    await expect(runbook.converge()).resolves.toEqual({ files: { [kb]: { [dll]: installed } }, ...inRotation });
    expect(host.scripts).toEqual(kbRunbookScripts);
  });

  it("(d) reports msiexec 1603 with engine, step, exit code, log path and tail, after putting the engine back", async () => {
    const { host, runbook, steps, events, statusesOf } = rig({ install: [msiexec(1603)] });
    const error = await failure(runbook.converge());
    expect(error).toBeInstanceOf(RunbookError);
    expect(error.name).toBe("RunbookError");
    expect(error.engine).toBe("MPS01");
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(1603);
    expect(error.installLog).toBe(logOf(kb, 1));
    expect(error.rotation).toBe("restored");
    expect(error.reason).toBe(
      `${kb}: msiexec exit code 1603 (fatal error during installation); install log ${logOf(kb, 1)}${kbTail(1603)}`,
    );
    expect(error.message).toBe(`engine MPS01: step install-package failed: ${error.reason}`);
    expect(rotationNotice(error)).toBe("engine MPS01 is back in rotation (COM+ application started, engine activated)");
    expect(host.scripts).toEqual([
      ...takeDownScripts,
      "install-package",
      "read-install-log",
      "start-complus",
      "activate-engine",
    ]);
    expect(host.callsTo("read-install-log")[0]!.params).toEqual({ LogPath: logOf(kb, 1), Lines: "25" });
    expect(steps().slice(-2)).toEqual(restoreSteps);
    expectKbOrder(host.scripts);
    // The failed install is reported as failed, before the restore, and the restore steps succeed.
    expect(statusesOf("install-package")).toEqual(["started", "failed"]);
    const installFailed = events.findIndex((e) => e.step === "install-package" && e.status === "failed");
    const restoreStart = events.findIndex((e) => e.step === "start-complus" && e.status === "started");
    expect(installFailed).toBeGreaterThanOrEqual(0);
    expect(restoreStart).toBeGreaterThan(installFailed);
    expect(statusesOf("activate-engine")).toEqual(["started", "succeeded"]);
    expect(host.state).toMatchObject({ files: { [dll]: oldVersion }, engine: "active", complus: "running" });
  });

  it("(d) says so when the install log cannot be read, and still restores", async () => {
    const { runbook } = rig({
      install: [msiexec(1603)],
      readLog: [new TransportError("connection-lost", "connection to MPS01 (10.0.0.1:22) lost")],
    });
    const error = await failure(runbook.converge());
    expect(error.reason).toBe(
      `${kb}: msiexec exit code 1603 (fatal error during installation); install log ${logOf(kb, 1)} (the log could not be read)`,
    );
    expect(error.rotation).toBe("restored");
  });

  it("(d) leaves the tail out when the log has no lines", async () => {
    const { runbook } = rig({
      install: [msiexec(1619)],
      readLog: [output([`error=no install log at ${logOf(kb, 1)}`, "exit=0"])],
    });
    const error = await failure(runbook.converge());
    expect(error.reason).toBe(
      `${kb}: msiexec exit code 1619 (the package could not be opened); install log ${logOf(kb, 1)}`,
    );
    expect(error.exitCode).toBe(1619);
  });

  it("(e) retries msiexec 1618 with doubling delays and a fresh log per attempt", async () => {
    const { host, runbook, sleeps, events, steps } = rig({ install: [msiexec(1618), msiexec(1618)] });
    await expect(runbook.converge()).resolves.toEqual({ files: { [kb]: { [dll]: installed } }, ...inRotation });
    const logs = host.callsTo("install-package").map((c) => c.params["LogPath"]);
    expect(logs).toEqual([logOf(kb, 1), logOf(kb, 2), logOf(kb, 3)]);
    expect(new Set(logs).size).toBe(3);
    expect(sleeps).toEqual([1_500, 3_000]);
    expect(events.filter((e) => e.status === "retrying").map((e) => [e.hotfixId, e.detail])).toEqual([
      [kb, "msiexec exit code 1618 (another installation is already in progress); attempt 2 of 4 in 1.5s"],
      [kb, "msiexec exit code 1618 (another installation is already in progress); attempt 3 of 4 in 3s"],
    ]);
    expect(host.scripts).toEqual([
      ...takeDownScripts,
      "install-package",
      "install-package",
      "install-package",
      ...bringBackScripts,
    ]);
    expect(steps().filter((s) => s === "deactivate-engine" || s === "shutdown-complus")).toEqual([
      "deactivate-engine",
      "shutdown-complus",
    ]);
  });

  it("(f) gives up after installAttempts times 1618, saying how many attempts, and restores", async () => {
    const { host, runbook, sleeps } = rig(
      { install: [msiexec(1618), msiexec(1618), msiexec(1618)] },
      { settings: { installAttempts: 3 } },
    );
    const error = await failure(runbook.converge());
    expect(host.callsTo("install-package")).toHaveLength(3);
    expect(sleeps).toEqual([1_500, 3_000]);
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(1618);
    expect(error.installLog).toBe(logOf(kb, 3));
    expect(error.reason).toBe(
      `${kb}: msiexec exit code 1618 (another installation is already in progress) after 3 attempts; install log ${logOf(kb, 3)}${kbTail(1618)}`,
    );
    expect(error.rotation).toBe("restored");
    expect(host.scripts.slice(-3)).toEqual(["read-install-log", "start-complus", "activate-engine"]);
  });

  it("(f) with one attempt allowed, does not retry or sleep", async () => {
    const { runbook, sleeps } = rig({ install: [msiexec(1618)] }, { settings: { installAttempts: 1 } });
    const error = await failure(runbook.converge());
    expect(error.reason).toMatch(
      new RegExp(`^${kb}: msiexec exit code 1618 \\(another installation is already in progress\\) after 1 attempts;`),
    );
    expect(sleeps).toEqual([]);
  });

  it.each([
    [3010, "installed; a restart is required to complete it"],
    [1641, "installed; the installer started a restart"],
  ])("(g) reports msiexec %i as a pending restart and restores the engine", async (code, meaning) => {
    const { host, runbook, sleeps } = rig({ install: [msiexec(code)] });
    const error = await failure(runbook.converge());
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(code);
    expect(error.reason).toBe(
      `${kb}: msiexec exit code ${code} (${meaning}); the engine is not compliant until the host restarts; install log ${logOf(kb, 1)}${kbTail(code)}`,
    );
    expect(error.rotation).toBe("restored");
    expect(sleeps).toEqual([]);
    expect(host.callsTo("install-package")).toHaveLength(1);
    expect(host.scripts.slice(-2)).toEqual(restoreSteps);
  });

  it("(h) refuses a package whose staged SHA-256 differs, before touching the engine", async () => {
    const wrong = "00".repeat(32);
    const { host, runbook } = rig({ stage: [stageReports(wrong)] });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual(["probe", "stage-package"]);
    expect(error.step).toBe("stage-package");
    expect(error.rotation).toBe("untouched");
    expect(error.exitCode).toBeUndefined();
    expect(error.reason).toBe(
      `the ${kb} package staged at ${stagedPath} has SHA-256 ${wrong}, the stack pins ${kbPackage.sha256}; refusing to install it`,
    );
    expect(rotationNotice(error)).toBe("engine MPS01 was not taken out of rotation");
  });

  it("(h) a staging script that fails leaves the engine untouched", async () => {
    const { host, runbook } = rig({ stage: [failedWith("There is not enough space on the disk.")] });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual(["probe", "stage-package"]);
    expect(error.reason).toBe("exit code 1: There is not enough space on the disk.");
    expect(error.exitCode).toBe(1);
    expect(error.rotation).toBe("untouched");
  });

  it("(i) leaves a failed engine out of rotation when the stack asks, and the notice shouts", async () => {
    const { host, runbook, steps } = rig({ install: [msiexec(1603)] }, { settings: { leaveFailedEngineOut: true } });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual([...takeDownScripts, "install-package", "read-install-log"]);
    expect(steps()).not.toContain("start-complus");
    expect(steps()).not.toContain("activate-engine");
    expect(error.rotation).toBe("left-out-by-request");
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(1603);
    const notice = rotationNotice(error);
    expect(notice).toBe(
      "ENGINE MPS01 IS LEFT OUT OF ROTATION, as the stack asks (rollout.leaveFailedEngineOut): it stays deactivated, its COM+ application possibly stopped, until you act",
    );
    expect(notice.startsWith("ENGINE MPS01 IS LEFT OUT OF ROTATION")).toBe(true);
    expect(host.state).toMatchObject({ engine: "deactivated", complus: "stopped" });
  });

  it("(i) a staging failure is untouched even when failed engines are left out", async () => {
    const { runbook } = rig({ stage: [stageReports("11".repeat(32))] }, { settings: { leaveFailedEngineOut: true } });
    const error = await failure(runbook.converge());
    expect(error.rotation).toBe("untouched");
  });

  it("(j) reports a restore that fails as left out, keeping the original failure", async () => {
    const { host, runbook } = rig({
      install: [msiexec(1603)],
      start: [failedWith("Provisioning Engine has no running instance after StartApplication")],
    });
    const error = await failure(runbook.converge());
    expect(host.scripts.slice(-2)).toEqual(["read-install-log", "start-complus"]);
    expect(host.scripts).not.toContain("activate-engine");
    expect(error.rotation).toBe("left-out-restore-failed");
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(1603);
    expect(error.installLog).toBe(logOf(kb, 1));
    expect(error.reason).toBe(
      `${kb}: msiexec exit code 1603 (fatal error during installation); install log ${logOf(kb, 1)}${kbTail(1603)}` +
        "\n  putting the engine back into rotation failed too: exit code 1: Provisioning Engine has no running instance after StartApplication",
    );
    expect(rotationNotice(error)).toBe(
      'ENGINE MPS01 IS OUT OF ROTATION: it could not be put back (deactivated, COM+ application possibly stopped); act now: the next "up" retries',
    );
  });

  it("(j) reports a failing activation during the restore as left out", async () => {
    const { host, runbook } = rig({
      shutdown: [failedWith("Provisioning Engine still has 1 running instance(s)", 2)],
      activate: [new TransportError("connection-lost", "connection to MPS01 (10.0.0.1:22) lost: ECONNRESET")],
    });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual([...takeDownScripts, "start-complus", "activate-engine"]);
    expect(error.step).toBe("shutdown-complus");
    expect(error.exitCode).toBe(2);
    expect(error.rotation).toBe("left-out-restore-failed");
    expect(error.reason).toBe(
      "exit code 2: Provisioning Engine still has 1 running instance(s)" +
        "\n  putting the engine back into rotation failed too: connection to MPS01 (10.0.0.1:22) lost: ECONNRESET",
    );
  });

  it("(k) stops at the first probe when a restart is pending", async () => {
    const { host, runbook } = rig({ restart: "pending" });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual(["probe"]);
    expect(error.step).toBe("probe");
    expect(error.rotation).toBe("untouched");
    expect(error.message).toBe(
      `engine MPS01: step probe failed: a restart is pending for ${kb}: PendingFileRenameOperations holds ${heldRename} (an earlier install returned 3010 or 1641); restart the host in a change window, then run up again`,
    );
  });

  it("(k) pending renames of other software do not stop the maintenance: a note on the probe, never drift", async () => {
    const { host, runbook, events } = rig({
      otherRenames: ["\\??\\C:\\Program Files\\Av\\engine.new", "!\\??\\C:\\Program Files\\Av\\engine.dll"],
    });
    const observed = await runbook.converge();
    expect(host.scripts).toEqual(kbRunbookScripts);
    expect(observed).toMatchObject({ ...inRotation, files: { [kb]: { [dll]: installed } } });
    const probe = events.find((e) => e.step === "probe" && e.status === "succeeded");
    expect(probe?.detail).toBe(
      "note: 1 pending file rename(s) for the next restart name no file of this engine's hotfixes; they do not block it: C:\\Program Files\\Av\\engine.new -> C:\\Program Files\\Av\\engine.dll",
    );
  });

  it("(k) a pending restart stops even a compliant but deactivated engine", async () => {
    const { host, runbook } = rig({ files: compliantFiles, engine: "deactivated", restart: "pending" });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual(["probe"]);
    expect(error.rotation).toBe("untouched");
  });

  it("refuses an engine whose COM+ component does not answer (KB952089's symptom) before changing anything", async () => {
    const { host, runbook } = rig({ responding: false });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual(["probe"]);
    expect(error.step).toBe("probe");
    expect(error.rotation).toBe("untouched");
    expect(error.reason).toBe(
      `not responding: ${notRespondingReason}; restart the server in a change window, then run up again`,
    );
  });

  it("fails an engine whose COM+ component does not answer once it is back in rotation, and says so loudly", async () => {
    const { host, runbook, steps } = rig({
      checkResponse: [output(["complus.instances=1", "complus.responding=no", "exit=0"])],
    });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual(kbRunbookScripts);
    expect(steps()).toEqual(patchedSteps);
    expect(error.step).toBe("check-response");
    expect(error.rotation).toBe("in-rotation-not-responding");
    expect(error.reason).toContain(`did not answer within ${defaultHost.responseTimeoutSeconds}s`);
    expect(rotationNotice(error)).toMatch(/^ENGINE MPS01 IS IN ROTATION BUT DOES NOT RESPOND/);
    // The check waits for the job's timeout on the host, so its step may take that long and more.
    expect(host.callsTo("check-response")[0]?.timeoutMs).toBeGreaterThanOrEqual(
      (defaultHost.responseTimeoutSeconds + 30) * 1000,
    );
  });

  it("(l) fails verify-files when msiexec says 0 but the old version is still there, and restores", async () => {
    const { host, runbook, steps } = rig({ install: [msiexec(0)] });
    const error = await failure(runbook.converge());
    expect(error.step).toBe("verify-files");
    expect(error.reason).toBe(`msiexec reported success but ${kb}: ${dll}: ${oldVersion} is older than ${version}`);
    expect(error.exitCode).toBeUndefined();
    expect(error.rotation).toBe("restored");
    // Put back after the failure: no check-response, which follows only a maintenance that succeeded.
    const restored = (names: readonly string[]): string[] => names.filter((name) => name !== "check-response");
    expect(host.scripts).toEqual(restored(kbRunbookScripts));
    expect(steps()).toEqual(restored(patchedSteps));
  });

  it("(l) fails verify-files when msiexec says 0 but a restart is now pending", async () => {
    const { runbook } = rig({
      install: [
        (call, host) => {
          host.state.restart = "pending";
          return host.answer(call);
        },
      ],
    });
    const error = await failure(runbook.converge());
    expect(error.step).toBe("verify-files");
    expect(error.reason).toBe(
      `msiexec reported success but a restart is pending for ${kb}: PendingFileRenameOperations holds ${heldRename} (an earlier install returned 3010 or 1641)`,
    );
    expect(error.rotation).toBe("restored");
  });

  it("restores the engine when deactivation itself fails", async () => {
    const { host, runbook } = rig({ deactivate: [failedWith("engine MPS01 is still active after Deactivate")] });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual(["probe", "stage-package", "deactivate-engine", "start-complus", "activate-engine"]);
    expect(error.step).toBe("deactivate-engine");
    expect(error.reason).toBe("exit code 1: engine MPS01 is still active after Deactivate");
    expect(error.rotation).toBe("restored");
  });

  it("after the session drops during an install that never started: asks Windows Installer, reads the files, then restores", async () => {
    const { host, runbook } = rig({
      install: [new TransportError("step-timeout", "install-package on MPS01 did not finish in 60s")],
    });
    const error = await failure(runbook.converge());
    expect(error.step).toBe("install-package");
    expect(error.reason).toBe(
      `${kb}: the session was lost during install-package (install-package on MPS01 did not finish in 60s); Windows Installer finished on its own: there is no install log at ${logOf(kb, 1)}: the install never started; ${dll} is at ${oldVersion} (${version} or later required)`,
    );
    expect(error.exitCode).toBeUndefined();
    expect(error.rotation).toBe("restored");
    expect(host.scripts).toEqual([...takeDownScripts, "install-package", "installer-status", "probe", ...restoreSteps]);
  });

  it("an install that outlives its session: waits until Windows Installer is done, says what the log and the files show, only then restores", async () => {
    const lost = new TransportError("connection-lost", "connection to MPS01 (10.0.0.1:22) was closed by the host");
    const { host, runbook, sleeps, events } = rig({
      install: [
        (call, fake) => {
          // msiexec carries on: it holds the mutex for two more polls, then it is installed.
          fake.state.installing = true;
          fake.answer(call);
          fake.logs.set(String(call.params["LogPath"]), [
            "MSI (c) (3C:40) [11:42:00:000]: MainEngineThread is returning 0",
          ]);
          throw lost;
        },
      ],
      status: [
        (call, fake) => fake.answer(call),
        (call, fake) => {
          fake.state.installing = false;
          return fake.answer(call);
        },
      ],
    });
    const error = await failure(runbook.converge());
    expect(error.reason).toBe(
      `${kb}: the session was lost during install-package (${lost.message}); Windows Installer finished on its own: its log ${logOf(kb, 1)} says msiexec returned 0 (installed); ${dll} is at ${installed} (${version} or later required)`,
    );
    expect(error.exitCode).toBe(0);
    expect(error.installLog).toBe(logOf(kb, 1));
    expect(error.cause).toBe(lost);
    expect(error.rotation).toBe("restored");
    // Restored only once the installer was done.
    expect(host.scripts).toEqual([
      ...takeDownScripts,
      "install-package",
      "installer-status",
      "installer-status",
      "probe",
      ...restoreSteps,
    ]);
    expect(sleeps).toEqual([settings.installRetryDelaySeconds! * 1000]);
    expect(events.filter((e) => e.step === "installer-status").map((e) => [e.status, e.detail])).toEqual([
      [
        "retrying",
        `Windows Installer is still installing; asking again in ${settings.installRetryDelaySeconds}s (1 of 600)`,
      ],
      ["succeeded", "Windows Installer is not installing"],
    ]);
  });

  it("an installer still running when the wait runs out: the engine is not put back, and the error says so", async () => {
    const lost = new TransportError("connection-lost", "connection to MPS01 (10.0.0.1:22) was closed by the host");
    const { host, runbook, sleeps } = rig(
      {
        install: [
          () => {
            throw lost;
          },
        ],
        installing: true,
      },
      { settings: { installWaitSeconds: 3, installRetryDelaySeconds: 1.5 } },
    );
    const error = await failure(runbook.converge());
    expect(error.rotation).toBe("left-out-installing");
    expect(error.reason).toBe(
      `${kb}: the session was lost during install-package (${lost.message}); Windows Installer is still installing after 3s of waiting (rollout.installWaitSeconds), so the engine was not put back while Windows Installer may be replacing ${dll}; install log ${logOf(kb, 1)}`,
    );
    expect(rotationNotice(error)).toBe(
      "ENGINE MPS01 IS OUT OF ROTATION: Windows Installer may still be installing on it, so it was not put back (deactivated, COM+ application stopped); once no installation runs there, run up again",
    );
    expect(host.scripts).toEqual([
      ...takeDownScripts,
      "install-package",
      "installer-status",
      "installer-status",
      "installer-status",
    ]);
    expect(sleeps).toEqual([1500, 1500]);
  });

  it("a host that cannot be reached again while the installer may run: not put back either", async () => {
    const lost = new TransportError("connection-lost", "connection to MPS01 (10.0.0.1:22) was closed by the host");
    const refused = new TransportError(
      "connection-refused",
      "cannot connect to MPS01 (10.0.0.1:22): connection refused",
    );
    const { runbook } = rig(
      { install: [lost], status: [refused, refused] },
      { settings: { installWaitSeconds: 1, installRetryDelaySeconds: 1 } },
    );
    const error = await failure(runbook.converge());
    expect(error.rotation).toBe("left-out-installing");
    expect(error.reason).toContain(`the host did not answer (${refused.message}) after 1s of waiting`);
  });

  it("restores the engine when an answer cannot be read", async () => {
    const { runbook } = rig({ install: [output(["msiexec.exit=zero", "log=C:\\x.log", "exit=0"])] });
    const error = await failure(runbook.converge());
    expect(error.step).toBe("install-package");
    expect(error.reason).toBe(`${kb}: unexpected answer to install-package: msiexecExit: must be an exit code`);
    expect(error.rotation).toBe("restored");
  });

  it("reports a probe that cannot reach the host as untouched", async () => {
    const { runbook } = rig({
      probe: [new TransportError("connection-refused", "MPS01 (10.0.0.1:22) refused the connection")],
    });
    const error = await failure(runbook.converge());
    expect(error.step).toBe("probe");
    expect(error.rotation).toBe("untouched");
    expect(error.message).toBe("engine MPS01: step probe failed: MPS01 (10.0.0.1:22) refused the connection");
  });

  it("reports an unreadable probe answer as untouched", async () => {
    const { runbook } = rig({ probe: [output(["engine=active", "exit=0"])] });
    const error = await failure(runbook.converge());
    expect(error.reason).toBe(
      'unexpected answer to probe: complus: Invalid option: expected one of "running"|"stopped"',
    );
    expect(error.rotation).toBe("untouched");
  });

  it("takes a failing script's reason from stderr when it printed no error= line", async () => {
    const { runbook } = rig({ probe: [output([], 1, "powershell.exe : first line\r\nAccess is denied.\r\n")] });
    const error = await failure(runbook.converge());
    expect(error.reason).toBe("exit code 1: Access is denied.");
    expect(error.exitCode).toBe(1);
  });

  it("says no reason was given when a failing script printed nothing", async () => {
    const { runbook } = rig({ probe: [output([], 255)] });
    const error = await failure(runbook.converge());
    expect(error.reason).toBe("exit code 255: no reason given");
  });

  it("reports a failure to start COM+ on an engine that needed no install as restored once the restore works", async () => {
    const { host, runbook } = rig({
      files: compliantFiles,
      engine: "deactivated",
      complus: "stopped",
      start: [failedWith("COM+ application not found: Provisioning Engine")],
    });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual(["probe", "start-complus", "start-complus", "activate-engine"]);
    expect(error.step).toBe("start-complus");
    expect(error.rotation).toBe("restored");
  });

  it("emits a failed event with the reason for the failing step", async () => {
    const { runbook, events } = rig({ stage: [failedWith("disk full")] });
    await failure(runbook.converge());
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({
      engine: "MPS01",
      hotfixId: kb,
      step: "stage-package",
      status: "failed",
      detail: "exit code 1: disk full",
    });
    expect(typeof last.elapsedMs).toBe("number");
  });

  it.each<[string, FakeHostOptions, string]>([
    ["msiexec 1603", { install: [msiexec(1603)] }, `${kb}: msiexec exit code 1603`],
    ["msiexec 3010", { install: [msiexec(3010)] }, `${kb}: msiexec exit code 3010`],
    ["1618 on every attempt", { install: [1, 2, 3, 4].map(() => msiexec(1618)) }, `${kb}: msiexec exit code 1618`],
    ["a dropped connection", { install: [new TransportError("connection-lost", "lost")] }, `${kb}: lost`],
    ["an answer it cannot read", { install: [output(["exit=0"])] }, `${kb}: unexpected answer to install-package`],
  ])("a failed install (%s) emits a failed event, never a succeeded one", async (_what, hostOptions, detail) => {
    const { runbook, events, statusesOf } = rig(hostOptions);
    await failure(runbook.converge());
    const installs = events.filter((e) => e.step === "install-package");
    expect(installs.every((e) => e.hotfixId === kb)).toBe(true);
    expect(statusesOf("install-package")).not.toContain("succeeded");
    const last = installs[installs.length - 1]!;
    expect(last.status).toBe("failed");
    expect(last.detail?.startsWith(detail)).toBe(true);
    expect(typeof last.elapsedMs).toBe("number");
  });
});

describe("Runbook.converge on an engine with two hotfixes", () => {
  it("deactivates once, shuts down once, installs both in catalog order, verifies, starts, activates", async () => {
    const { host, runbook, steps, events } = rig({}, { target: twoHotfixes });
    await expect(runbook.converge()).resolves.toEqual({
      files: {
        [kb]: { [dll]: installed },
        [other]: { [inventedFile.name]: simulatedInstalls(other)[inventedFile.name]! },
      },
      ...inRotation,
    });
    expect(host.scripts).toEqual([
      "probe",
      "stage-package",
      "stage-package",
      "deactivate-engine",
      "shutdown-complus",
      "install-package",
      "install-package",
      "probe",
      "start-complus",
      "activate-engine",
      "check-response",
    ]);
    expect(steps()).toEqual([
      "probe",
      "stage-package",
      "stage-package",
      "deactivate-engine",
      "shutdown-complus",
      "install-package",
      "install-package",
      "verify-files",
      "start-complus",
      "activate-engine",
      "check-response",
    ]);
    expectKbOrder(host.scripts);
    expect(host.callsTo("stage-package").map((c) => [c.params["PackageFile"], c.stdin])).toEqual([
      [kbPackage.file, packageBase64Of(kbPackage)],
      [otherPackage.file, packageBase64Of(otherPackage)],
    ]);
    // Each hotfix gets its own msiexec and its own log.
    expect(host.callsTo("install-package").map((c) => c.params)).toEqual([
      { PackagePath: stagedPath, LogPath: logOf(kb, 1) },
      { PackagePath: hostPath(defaultHost.stagingDir, otherPackage.file), LogPath: logOf(other, 1) },
    ]);
    // The verifying probe asks for the files of both hotfixes.
    expect(host.callsTo("probe")[1]!.params["FilePaths"]).toEqual([
      hostPath(defaultHost.binDir, dll),
      hostPath(defaultHost.binDir, inventedFile.name),
    ]);
    expect(events.filter((e) => e.status === "succeeded" && "hotfixId" in e).map((e) => [e.step, e.hotfixId])).toEqual([
      ["stage-package", kb],
      ["stage-package", other],
      ["install-package", kb],
      ["install-package", other],
    ]);
    expect(events.filter((e) => e.status === "failed" || e.status === "retrying")).toEqual([]);
  });

  it("stages and installs only the hotfix that is out of date, still taking the engine down once", async () => {
    const { host, runbook } = rig({ files: compliantFiles }, { target: twoHotfixes });
    await runbook.converge();
    expect(host.scripts).toEqual(kbRunbookScripts);
    expect(host.callsTo("stage-package").map((c) => c.params["PackageFile"])).toEqual([otherPackage.file]);
    expect(host.callsTo("install-package").map((c) => c.params["LogPath"])).toEqual([logOf(other, 1)]);
  });

  it("only probes an engine that carries both", async () => {
    const { host, runbook } = rig(
      { files: { ...compliantFiles, [inventedFile.name]: inventedFile.version } },
      { target: twoHotfixes },
    );
    await runbook.converge();
    expect(host.scripts).toEqual(["probe"]);
  });

  it("restores the engine when the second install fails, and names that hotfix", async () => {
    const { host, runbook, statusesOf } = rig({ install: [asHost, msiexec(1603)] }, { target: twoHotfixes });
    const error = await failure(runbook.converge());
    expect(host.scripts).toEqual([
      "probe",
      "stage-package",
      "stage-package",
      "deactivate-engine",
      "shutdown-complus",
      "install-package",
      "install-package",
      "read-install-log",
      "start-complus",
      "activate-engine",
    ]);
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(1603);
    expect(error.installLog).toBe(logOf(other, 1));
    expect(error.rotation).toBe("restored");
    expect(error.reason).toBe(
      `${other}: msiexec exit code 1603 (fatal error during installation); install log ${logOf(other, 1)}${tailText(failedInstallLog(otherPackage.file, 1603))}`,
    );
    expect(host.callsTo("read-install-log")[0]!.params["LogPath"]).toBe(logOf(other, 1));
    expect(statusesOf("install-package", kb)).toEqual(["started", "succeeded"]);
    expect(statusesOf("install-package", other)).toEqual(["started", "failed"]);
    // The first hotfix stays installed; the engine is back in rotation.
    expect(host.state).toMatchObject({
      files: { [dll]: installed },
      engine: "active",
      complus: "running",
      restart: "none",
    });
  });

  it("does not start the second install when the first fails", async () => {
    const { host, runbook } = rig({ install: [msiexec(1603)] }, { target: twoHotfixes });
    const error = await failure(runbook.converge());
    expect(host.callsTo("install-package").map((c) => c.params["LogPath"])).toEqual([logOf(kb, 1)]);
    expect(error.reason.startsWith(`${kb}: msiexec exit code 1603`)).toBe(true);
    expect(host.scripts.slice(-2)).toEqual(restoreSteps);
  });

  it("fails verify-files naming every hotfix whose file is still old", async () => {
    const { runbook } = rig({ install: [msiexec(0), msiexec(0)] }, { target: twoHotfixes });
    const error = await failure(runbook.converge());
    expect(error.step).toBe("verify-files");
    expect(error.reason).toBe(
      `msiexec reported success but ${kb}: ${dll}: ${oldVersion} is older than ${version}; ` +
        `${other}: ${inventedFile.name}: missing is older than ${inventedFile.version}`,
    );
    expect(error.rotation).toBe("restored");
  });

  it("starts no further install once the operator interrupts, and puts the engine back", async () => {
    const { host, runbook } = rig(
      {},
      { target: twoHotfixes, interrupted: () => host.callsTo("install-package").length > 0 },
    );
    const error = await failure(runbook.converge());
    expect(host.callsTo("install-package").map((c) => c.params["LogPath"])).toEqual([logOf(kb, 1)]);
    expect(host.scripts.slice(-2)).toEqual(restoreSteps);
    expect(error.step).toBe("install-package");
    expect(error.reason).toBe(`${other}: interrupted by the operator before this step started`);
    expect(error.rotation).toBe("restored");
  });
});

describe("Runbook.converge when the operator interrupts", () => {
  it("does not deactivate an engine, and leaves it as it was", async () => {
    const { host, runbook } = rig({}, { interrupted: () => true });
    const error = await failure(runbook.converge());
    expect(error.step).toBe("deactivate-engine");
    expect(error.reason).toBe("interrupted by the operator before this step started");
    expect(error.rotation).toBe("untouched");
    // Nothing was taken down, so nothing is brought back either.
    expect(host.scripts).toEqual(["probe", "stage-package"]);
    expect(host.state).toMatchObject({ files: { [dll]: oldVersion }, engine: "active", complus: "running" });
  });
});

describe("Runbook.probe", () => {
  it("reports what the host has, grouped by hotfix under the required file names", async () => {
    const { host, runbook } = rig({
      probe: [
        output([
          `file:${dll.toUpperCase()}=${oldVersion}`,
          "engine=deactivated",
          "complus.instances=0",
          "complus=stopped",
          "renames=0",
          "exit=0",
        ]),
      ],
    });
    await expect(runbook.probe()).resolves.toEqual({
      files: { [kb]: { [dll]: oldVersion } },
      engineState: "deactivated",
      comPlusState: "stopped",
      restartPending: false,
    });
    expect(host.scripts).toEqual(["probe"]);
  });
});
