import type { ScriptRunner } from "../../components/host/engineConnection";
import type { HostScript, ScriptParams } from "../../components/host/scripts";
import { TransportError, type ExecResult } from "../../components/host/sshSession";
import type { ScriptName, StepName } from "../../components/host/steps";
import { Runbook, RunbookError, rotationNotice, type StepEvent } from "../../components/runbook/runbook";
import type { HotfixTarget, RunbookSettings } from "../../components/runbook/target";
import { bringBackScripts, kbRunbookScripts, takeDownScripts } from "../support/kbRunbook";

const target: HotfixTarget = {
  engineName: "MPS01",
  hotfixId: "KB952089",
  packageFile: "KB952089.msi",
  packagePath: "/srv/packages/KB952089.msi",
  packageSha256: "9f".repeat(32),
  requiredVersions: { "Mapsproccntl.dll": "13.3.609.1" },
  binDir: "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin",
  stagingDir: "C:\\Windows\\Temp\\mps-hotfix",
  comPlusApplication: "Provisioning Engine",
  engineControlProgId: "Provisioning.EngineControl",
};

const settings: RunbookSettings = {
  stepTimeoutMs: 60_000,
  complusShutdownTimeoutSeconds: 120,
  installAttempts: 4,
  installRetryDelayMs: 1_500,
  leaveFailedEngineOut: false,
};

const packageBase64 = Buffer.from("the KB952089 package").toString("base64");
const now = new Date("2024-03-01T10:20:30.456Z");
const logOf = (attempt: number): string =>
  `C:\\Windows\\Temp\\mps-hotfix\\KB952089-20240301-102030-attempt${attempt}.log`;
const stagedPath = "C:\\Windows\\Temp\\mps-hotfix\\KB952089.msi";

// ---- a fake host: records what it is asked to run, answers from a scripted table ----

interface RunCall {
  readonly script: ScriptName;
  readonly params: ScriptParams;
  readonly stdin: string | undefined;
  readonly timeoutMs: number;
}

type Reply = ExecResult | Error | ((call: RunCall) => ExecResult);

class FakeRunner implements ScriptRunner {
  readonly calls: RunCall[] = [];
  private readonly replies: Map<ScriptName, Reply[]>;

  constructor(table: Partial<Record<ScriptName, readonly Reply[]>>) {
    this.replies = new Map(Object.entries(table).map(([name, replies]) => [name as ScriptName, [...replies]]));
  }

  async run(script: HostScript, timeoutMs: number): Promise<ExecResult> {
    const call: RunCall = { script: script.name, params: script.params, stdin: script.stdin, timeoutMs };
    this.calls.push(call);
    const reply = this.replies.get(script.name)?.shift();
    if (reply === undefined)
      throw new Error(`the test scripted no answer for call ${this.calls.length} (${script.name})`);
    if (reply instanceof Error) throw reply;
    return typeof reply === "function" ? reply(call) : reply;
  }

  get scripts(): ScriptName[] {
    return this.calls.map((c) => c.script);
  }

  callsTo(name: ScriptName): RunCall[] {
    return this.calls.filter((c) => c.script === name);
  }
}

function param(call: RunCall, name: string): string {
  const value = call.params[name];
  if (typeof value !== "string") throw new Error(`parameter ${name} is not a string`);
  return value;
}

function output(lines: readonly string[], exitCode = 0, stderr = ""): ExecResult {
  return { stdout: lines.map((l) => `${l}\r\n`).join(""), stderr, exitCode };
}

interface HostState {
  readonly file?: string;
  readonly engine?: "active" | "deactivated";
  readonly complus?: "running" | "stopped";
  readonly restart?: "pending" | "none";
}

function probe(state: HostState = {}): ExecResult {
  const complus = state.complus ?? "running";
  return output([
    `file:Mapsproccntl.dll=${state.file ?? "13.3.609.1"}`,
    `engine=${state.engine ?? "active"}`,
    `complus.instances=${complus === "running" ? 1 : 0}`,
    `complus=${complus}`,
    `restart=${state.restart ?? "none"}`,
    "exit=0",
  ]);
}

const drifted = probe({ file: "13.3.600.0" });
const afterInstall = probe({ engine: "deactivated", complus: "stopped" });
const staged = (sha = target.packageSha256): ExecResult =>
  output([`sha256=${sha}`, "bytes=21408", `path=${stagedPath}`, "exit=0"]);
const deactivated = output(["engine=deactivated", "exit=0"]);
const stopped = output(["complus.instances=0", "complus=stopped", "exit=0"]);
const started = output(["complus.instances=1", "complus=running", "exit=0"]);
const activated = output(["engine=active", "exit=0"]);
const failedWith = (message: string, exitCode = 1): ExecResult =>
  output([`error=${message}`, `exit=${exitCode}`], exitCode);
const msiexec =
  (code: number): Reply =>
  (call) =>
    output([`msiexec.exit=${code}`, `log=${param(call, "LogPath")}`, `exit=${code}`], code);
const logTail = output([
  "log:MSI (s) (A4:B8) [10:20:31:123]: Product: KB952089 -- Installation failed.",
  "log:MSI (s) (A4:B8) [10:20:31:125]: MainEngineThread is returning 1603",
  "exit=0",
]);
const tailText =
  "\n  last lines of the install log:\n" +
  "    MSI (s) (A4:B8) [10:20:31:123]: Product: KB952089 -- Installation failed.\n" +
  "    MSI (s) (A4:B8) [10:20:31:125]: MainEngineThread is returning 1603";

function setup(runner: FakeRunner, overrides: Partial<RunbookSettings> = {}) {
  const events: StepEvent[] = [];
  const sleeps: number[] = [];
  const runbook = new Runbook(target, {
    runner,
    settings: { ...settings, ...overrides },
    packageBase64: () => packageBase64,
    onStep: (event) => void events.push(event),
    sleep: async (ms) => void sleeps.push(ms),
    now: () => now,
  });
  const steps = (): StepName[] => events.filter((e) => e.status === "started").map((e) => e.step);
  return { runbook, events, sleeps, steps };
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

/** The KB's order, whatever happened: never install unless deactivated and shut down first, never activate before COM+ runs. */
function expectKbOrder(scripts: readonly ScriptName[]): void {
  const install = scripts.indexOf("install-package");
  if (install >= 0) {
    const deactivate = scripts.indexOf("deactivate-engine");
    const shutdown = scripts.indexOf("shutdown-complus");
    expect(deactivate).toBeGreaterThanOrEqual(0);
    expect(shutdown).toBeGreaterThan(deactivate);
    expect(install).toBeGreaterThan(shutdown);
  }
  const activate = scripts.lastIndexOf("activate-engine");
  const start = scripts.lastIndexOf("start-complus");
  if (activate >= 0 && start >= 0) expect(activate).toBeGreaterThan(start);
}

const restoreSteps: StepName[] = ["start-complus", "activate-engine"];

describe("Runbook.converge", () => {
  it("(a) patches a drifted engine in the KB's order and reports what the final probe saw", async () => {
    const runner = new FakeRunner({
      probe: [drifted, afterInstall],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(0)],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const { runbook, steps, events, sleeps } = setup(runner);
    await expect(runbook.converge()).resolves.toEqual({
      fileVersions: { "Mapsproccntl.dll": "13.3.609.1" },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
    });
    expect(steps()).toEqual([
      ...takeDownScripts,
      "install-package",
      "verify-files",
      "start-complus",
      "activate-engine",
    ]);
    expect(runner.scripts).toEqual(kbRunbookScripts);
    expectKbOrder(runner.scripts);
    expect(sleeps).toEqual([]);
    expect(events.filter((e) => e.status === "failed" || e.status === "retrying")).toEqual([]);
    expect(events.filter((e) => e.status === "succeeded").map((e) => e.step)).toEqual(steps());
    expect(events.every((e) => e.engine === "MPS01" && e.hotfixId === "KB952089")).toBe(true);
  });

  it("(a) gives each script the target's values, the package on stdin, and the step timeouts", async () => {
    const runner = new FakeRunner({
      probe: [drifted, afterInstall],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(0)],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    await setup(runner).runbook.converge();
    const engine = { EngineName: "MPS01", EngineControlProgId: "Provisioning.EngineControl" };
    expect(runner.calls).toEqual([
      {
        script: "probe",
        params: {
          FilePaths: ["C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin\\Mapsproccntl.dll"],
          ...engine,
          ComPlusApplication: "Provisioning Engine",
        },
        stdin: undefined,
        timeoutMs: 60_000,
      },
      {
        script: "stage-package",
        params: { StagingDir: "C:\\Windows\\Temp\\mps-hotfix", PackageFile: "KB952089.msi" },
        stdin: packageBase64,
        timeoutMs: 60_000,
      },
      { script: "deactivate-engine", params: engine, stdin: undefined, timeoutMs: 60_000 },
      {
        script: "shutdown-complus",
        params: { ComPlusApplication: "Provisioning Engine", TimeoutSeconds: "120" },
        stdin: undefined,
        // The shutdown may take its own timeout plus a margin, longer than an ordinary step.
        timeoutMs: 150_000,
      },
      {
        script: "install-package",
        params: { PackagePath: stagedPath, LogPath: logOf(1) },
        stdin: undefined,
        timeoutMs: 60_000,
      },
      expect.objectContaining({ script: "probe", timeoutMs: 60_000 }),
      {
        script: "start-complus",
        params: { ComPlusApplication: "Provisioning Engine" },
        stdin: undefined,
        timeoutMs: 60_000,
      },
      { script: "activate-engine", params: engine, stdin: undefined, timeoutMs: 60_000 },
    ]);
  });

  it("(b) only probes a compliant engine", async () => {
    const runner = new FakeRunner({ probe: [probe()] });
    const { runbook, steps } = setup(runner);
    await expect(runbook.converge()).resolves.toEqual({
      fileVersions: { "Mapsproccntl.dll": "13.3.609.1" },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
    });
    expect(runner.scripts).toEqual(["probe"]);
    expect(steps()).toEqual(["probe"]);
  });

  it("(b) only probes an engine with a later version ('or later' satisfies)", async () => {
    const runner = new FakeRunner({ probe: [probe({ file: "13.3.1000.0" })] });
    await expect(setup(runner).runbook.converge()).resolves.toEqual({
      fileVersions: { "Mapsproccntl.dll": "13.3.1000.0" },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
    });
    expect(runner.scripts).toEqual(["probe"]);
  });

  it("(c) puts back an engine left deactivated with COM+ stopped whose files are fine, without reinstalling", async () => {
    const runner = new FakeRunner({
      probe: [probe({ engine: "deactivated", complus: "stopped" })],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const { runbook, steps } = setup(runner);
    await expect(runbook.converge()).resolves.toEqual({
      fileVersions: { "Mapsproccntl.dll": "13.3.609.1" },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
    });
    expect(runner.scripts).toEqual(["probe", "start-complus", "activate-engine"]);
    expect(steps()).toEqual(["probe", "start-complus", "activate-engine"]);
  });

  it("(c) only activates a deactivated engine whose COM+ application runs", async () => {
    const runner = new FakeRunner({ probe: [probe({ engine: "deactivated" })], "activate-engine": [activated] });
    await setup(runner).runbook.converge();
    expect(runner.scripts).toEqual(["probe", "activate-engine"]);
  });

  it("(c) only starts a stopped COM+ application of an active engine", async () => {
    const runner = new FakeRunner({ probe: [probe({ complus: "stopped" })], "start-complus": [started] });
    await setup(runner).runbook.converge();
    expect(runner.scripts).toEqual(["probe", "start-complus"]);
  });

  it("patches an engine whose file is missing", async () => {
    const runner = new FakeRunner({
      probe: [probe({ file: "missing" }), afterInstall],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(0)],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    await setup(runner).runbook.converge();
    expect(runner.scripts).toEqual(kbRunbookScripts);
  });

  it("(d) reports msiexec 1603 with engine, step, exit code, log path and tail, after putting the engine back", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(1603)],
      "read-install-log": [logTail],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const { runbook, steps, events } = setup(runner);
    const error = await failure(runbook.converge());
    expect(error).toBeInstanceOf(RunbookError);
    expect(error.name).toBe("RunbookError");
    expect(error.engine).toBe("MPS01");
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(1603);
    expect(error.installLog).toBe(logOf(1));
    expect(error.rotation).toBe("restored");
    expect(error.reason).toBe(
      `msiexec exit code 1603 (fatal error during installation); install log ${logOf(1)}${tailText}`,
    );
    expect(error.message).toBe(`engine MPS01: step install-package failed: ${error.reason}`);
    expect(rotationNotice(error)).toBe("engine MPS01 is back in rotation (COM+ application started, engine activated)");
    expect(runner.scripts).toEqual([
      ...takeDownScripts,
      "install-package",
      "read-install-log",
      "start-complus",
      "activate-engine",
    ]);
    expect(runner.callsTo("read-install-log")[0]!.params).toEqual({ LogPath: logOf(1), Lines: "25" });
    expect(steps().slice(-2)).toEqual(restoreSteps);
    expectKbOrder(runner.scripts);
    // The failed install comes before the restore, and the restore steps succeed.
    const installDone = events.findIndex((e) => e.step === "install-package" && e.status === "succeeded");
    const restoreStart = events.findIndex((e) => e.step === "start-complus" && e.status === "started");
    expect(installDone).toBeGreaterThanOrEqual(0);
    expect(restoreStart).toBeGreaterThan(installDone);
    expect(events.filter((e) => e.step === "activate-engine").map((e) => e.status)).toEqual(["started", "succeeded"]);
  });

  it("(d) says so when the install log cannot be read, and still restores", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(1603)],
      "read-install-log": [new TransportError("connection-lost", "connection to MPS01 (10.0.0.1:22) lost")],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.reason).toBe(
      `msiexec exit code 1603 (fatal error during installation); install log ${logOf(1)} (the log could not be read)`,
    );
    expect(error.rotation).toBe("restored");
  });

  it("(d) leaves the tail out when the log has no lines", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(1619)],
      "read-install-log": [output([`error=no install log at ${logOf(1)}`, "exit=0"])],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.reason).toBe(`msiexec exit code 1619 (the package could not be opened); install log ${logOf(1)}`);
    expect(error.exitCode).toBe(1619);
  });

  it("(e) retries msiexec 1618 with doubling delays and a fresh log per attempt", async () => {
    const runner = new FakeRunner({
      probe: [drifted, afterInstall],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(1618), msiexec(1618), msiexec(0)],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const { runbook, sleeps, events, steps } = setup(runner);
    await expect(runbook.converge()).resolves.toMatchObject({ engineState: "active", comPlusState: "running" });
    const installs = runner.callsTo("install-package");
    expect(installs.map((c) => param(c, "LogPath"))).toEqual([logOf(1), logOf(2), logOf(3)]);
    expect(new Set(installs.map((c) => param(c, "LogPath"))).size).toBe(3);
    expect(sleeps).toEqual([1_500, 3_000]);
    expect(events.filter((e) => e.status === "retrying").map((e) => e.detail)).toEqual([
      "msiexec exit code 1618 (another installation is already in progress); attempt 2 of 4 in 1.5s",
      "msiexec exit code 1618 (another installation is already in progress); attempt 3 of 4 in 3s",
    ]);
    expect(runner.scripts).toEqual([
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
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(1618), msiexec(1618), msiexec(1618)],
      "read-install-log": [logTail],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const { runbook, sleeps } = setup(runner, { installAttempts: 3 });
    const error = await failure(runbook.converge());
    expect(runner.callsTo("install-package")).toHaveLength(3);
    expect(sleeps).toEqual([1_500, 3_000]);
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(1618);
    expect(error.installLog).toBe(logOf(3));
    expect(error.reason).toBe(
      `msiexec exit code 1618 (another installation is already in progress) after 3 attempts; install log ${logOf(3)}${tailText}`,
    );
    expect(error.rotation).toBe("restored");
    expect(runner.scripts.slice(-3)).toEqual(["read-install-log", "start-complus", "activate-engine"]);
  });

  it("(f) with one attempt allowed, does not retry or sleep", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(1618)],
      "read-install-log": [logTail],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const { runbook, sleeps } = setup(runner, { installAttempts: 1 });
    const error = await failure(runbook.converge());
    expect(error.reason).toMatch(
      /^msiexec exit code 1618 \(another installation is already in progress\) after 1 attempts;/,
    );
    expect(sleeps).toEqual([]);
  });

  it.each([
    [3010, "installed; a restart is required to complete it"],
    [1641, "installed; the installer started a restart"],
  ])("(g) reports msiexec %i as a pending restart and restores the engine", async (code, meaning) => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(code)],
      "read-install-log": [logTail],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const { runbook, sleeps } = setup(runner);
    const error = await failure(runbook.converge());
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(code);
    expect(error.reason).toBe(
      `msiexec exit code ${code} (${meaning}); the engine is not compliant until the host restarts; install log ${logOf(1)}${tailText}`,
    );
    expect(error.rotation).toBe("restored");
    expect(sleeps).toEqual([]);
    expect(runner.callsTo("install-package")).toHaveLength(1);
    expect(runner.scripts.slice(-2)).toEqual(restoreSteps);
  });

  it("(h) refuses a package whose staged SHA-256 differs, before touching the engine", async () => {
    const wrong = "00".repeat(32);
    const runner = new FakeRunner({ probe: [drifted], "stage-package": [staged(wrong)] });
    const error = await failure(setup(runner).runbook.converge());
    expect(runner.scripts).toEqual(["probe", "stage-package"]);
    expect(error.step).toBe("stage-package");
    expect(error.rotation).toBe("untouched");
    expect(error.exitCode).toBeUndefined();
    expect(error.reason).toBe(
      `the package staged at ${stagedPath} has SHA-256 ${wrong}, the stack pins ${target.packageSha256}; refusing to install it`,
    );
    expect(rotationNotice(error)).toBe("engine MPS01 was not taken out of rotation");
  });

  it("(h) a staging script that fails leaves the engine untouched", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [failedWith("There is not enough space on the disk.")],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(runner.scripts).toEqual(["probe", "stage-package"]);
    expect(error.reason).toBe("exit code 1: There is not enough space on the disk.");
    expect(error.exitCode).toBe(1);
    expect(error.rotation).toBe("untouched");
  });

  it("(i) leaves a failed engine out of rotation when the stack asks, and the notice shouts", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(1603)],
      "read-install-log": [logTail],
    });
    const { runbook, steps } = setup(runner, { leaveFailedEngineOut: true });
    const error = await failure(runbook.converge());
    expect(runner.scripts).toEqual([...takeDownScripts, "install-package", "read-install-log"]);
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
  });

  it("(i) a staging failure is untouched even when failed engines are left out", async () => {
    const runner = new FakeRunner({ probe: [drifted], "stage-package": [staged("11".repeat(32))] });
    const error = await failure(setup(runner, { leaveFailedEngineOut: true }).runbook.converge());
    expect(error.rotation).toBe("untouched");
  });

  it("(j) reports a restore that fails as left out, keeping the original failure", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(1603)],
      "read-install-log": [logTail],
      "start-complus": [failedWith("Provisioning Engine has no running instance after StartApplication")],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(runner.scripts.slice(-2)).toEqual(["read-install-log", "start-complus"]);
    expect(runner.scripts).not.toContain("activate-engine");
    expect(error.rotation).toBe("left-out-restore-failed");
    expect(error.step).toBe("install-package");
    expect(error.exitCode).toBe(1603);
    expect(error.installLog).toBe(logOf(1));
    expect(error.reason).toBe(
      `msiexec exit code 1603 (fatal error during installation); install log ${logOf(1)}${tailText}` +
        "\n  putting the engine back into rotation failed too: exit code 1: Provisioning Engine has no running instance after StartApplication",
    );
    expect(rotationNotice(error)).toBe(
      'ENGINE MPS01 IS OUT OF ROTATION: it could not be put back (deactivated, COM+ application possibly stopped); act now: the next "up" retries',
    );
  });

  it("(j) reports a failing activation during the restore as left out", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [failedWith("Provisioning Engine still has 1 running instance(s)", 2)],
      "start-complus": [started],
      "activate-engine": [new TransportError("connection-lost", "connection to MPS01 (10.0.0.1:22) lost: ECONNRESET")],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(runner.scripts).toEqual([...takeDownScripts, "start-complus", "activate-engine"]);
    expect(error.step).toBe("shutdown-complus");
    expect(error.exitCode).toBe(2);
    expect(error.rotation).toBe("left-out-restore-failed");
    expect(error.reason).toBe(
      "exit code 2: Provisioning Engine still has 1 running instance(s)" +
        "\n  putting the engine back into rotation failed too: connection to MPS01 (10.0.0.1:22) lost: ECONNRESET",
    );
  });

  it("(k) stops at the first probe when a restart is pending", async () => {
    const runner = new FakeRunner({ probe: [probe({ file: "13.3.600.0", restart: "pending" })] });
    const error = await failure(setup(runner).runbook.converge());
    expect(runner.scripts).toEqual(["probe"]);
    expect(error.step).toBe("probe");
    expect(error.rotation).toBe("untouched");
    expect(error.message).toBe(
      "engine MPS01: step probe failed: a restart is pending on this host (an earlier install returned 3010 or 1641); restart it in a change window, then run up again",
    );
  });

  it("(k) a pending restart stops even a compliant but deactivated engine", async () => {
    const runner = new FakeRunner({ probe: [probe({ engine: "deactivated", restart: "pending" })] });
    const error = await failure(setup(runner).runbook.converge());
    expect(runner.scripts).toEqual(["probe"]);
    expect(error.rotation).toBe("untouched");
  });

  it("(l) fails verify-files when msiexec says 0 but the old version is still there, and restores", async () => {
    const runner = new FakeRunner({
      probe: [drifted, probe({ file: "13.3.600.0", engine: "deactivated", complus: "stopped" })],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(0)],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const { runbook, steps } = setup(runner);
    const error = await failure(runbook.converge());
    expect(error.step).toBe("verify-files");
    expect(error.reason).toBe("msiexec reported success but Mapsproccntl.dll is 13.3.600.0, not 13.3.609.1 or later");
    expect(error.exitCode).toBeUndefined();
    expect(error.rotation).toBe("restored");
    expect(runner.scripts).toEqual(kbRunbookScripts);
    expect(steps()).toEqual([
      ...takeDownScripts,
      "install-package",
      "verify-files",
      "start-complus",
      "activate-engine",
    ]);
  });

  it("(l) fails verify-files when msiexec says 0 but a restart is now pending", async () => {
    const runner = new FakeRunner({
      probe: [drifted, probe({ engine: "deactivated", complus: "stopped", restart: "pending" })],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [msiexec(0)],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.step).toBe("verify-files");
    expect(error.reason).toBe("msiexec reported success but a restart is pending");
    expect(error.rotation).toBe("restored");
  });

  it("restores the engine when deactivation itself fails", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [failedWith("engine MPS01 is still active after Deactivate")],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(runner.scripts).toEqual(["probe", "stage-package", "deactivate-engine", "start-complus", "activate-engine"]);
    expect(error.step).toBe("deactivate-engine");
    expect(error.reason).toBe("exit code 1: engine MPS01 is still active after Deactivate");
    expect(error.rotation).toBe("restored");
  });

  it("restores the engine when the connection drops during the install", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [new TransportError("step-timeout", "install-package on MPS01 did not finish in 60s")],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.step).toBe("install-package");
    expect(error.reason).toBe("install-package on MPS01 did not finish in 60s");
    expect(error.exitCode).toBeUndefined();
    expect(error.rotation).toBe("restored");
    expect(runner.scripts.slice(-2)).toEqual(restoreSteps);
  });

  it("restores the engine when an answer cannot be read", async () => {
    const runner = new FakeRunner({
      probe: [drifted],
      "stage-package": [staged()],
      "deactivate-engine": [deactivated],
      "shutdown-complus": [stopped],
      "install-package": [output(["msiexec.exit=zero", "log=C:\\x.log", "exit=0"])],
      "start-complus": [started],
      "activate-engine": [activated],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.step).toBe("install-package");
    expect(error.reason).toBe("unexpected answer to install-package: msiexecExit: must be an exit code");
    expect(error.rotation).toBe("restored");
  });

  it("reports a probe that cannot reach the host as untouched", async () => {
    const runner = new FakeRunner({
      probe: [new TransportError("connection-refused", "MPS01 (10.0.0.1:22) refused the connection")],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.step).toBe("probe");
    expect(error.rotation).toBe("untouched");
    expect(error.message).toBe("engine MPS01: step probe failed: MPS01 (10.0.0.1:22) refused the connection");
  });

  it("reports an unreadable probe answer as untouched", async () => {
    const runner = new FakeRunner({ probe: [output(["engine=active", "exit=0"])] });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.reason).toBe(
      'unexpected answer to probe: complus: Invalid option: expected one of "running"|"stopped"',
    );
    expect(error.rotation).toBe("untouched");
  });

  it("takes a failing script's reason from stderr when it printed no error= line", async () => {
    const runner = new FakeRunner({
      probe: [output([], 1, "powershell.exe : first line\r\nAccess is denied.\r\n")],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.reason).toBe("exit code 1: Access is denied.");
    expect(error.exitCode).toBe(1);
  });

  it("says no reason was given when a failing script printed nothing", async () => {
    const runner = new FakeRunner({ probe: [output([], 255)] });
    const error = await failure(setup(runner).runbook.converge());
    expect(error.reason).toBe("exit code 255: no reason given");
  });

  it("reports a failure to start COM+ on an engine that needed no install as restored once the restore works", async () => {
    const runner = new FakeRunner({
      probe: [probe({ engine: "deactivated", complus: "stopped" })],
      "start-complus": [failedWith("COM+ application not found: Provisioning Engine"), started],
      "activate-engine": [activated],
    });
    const error = await failure(setup(runner).runbook.converge());
    expect(runner.scripts).toEqual(["probe", "start-complus", "start-complus", "activate-engine"]);
    expect(error.step).toBe("start-complus");
    expect(error.rotation).toBe("restored");
  });

  it("emits a failed event with the reason for the failing step", async () => {
    const runner = new FakeRunner({ probe: [drifted], "stage-package": [failedWith("disk full")] });
    const { runbook, events } = setup(runner);
    await failure(runbook.converge());
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({
      engine: "MPS01",
      hotfixId: "KB952089",
      step: "stage-package",
      status: "failed",
      detail: "exit code 1: disk full",
    });
    expect(typeof last.elapsedMs).toBe("number");
  });
});

describe("Runbook.probe", () => {
  it("reports what the host has, by the required file names", async () => {
    const runner = new FakeRunner({
      probe: [
        output([
          "file:MAPSPROCCNTL.DLL=13.3.600.0",
          "engine=deactivated",
          "complus.instances=0",
          "complus=stopped",
          "restart=none",
          "exit=0",
        ]),
      ],
    });
    await expect(setup(runner).runbook.probe()).resolves.toEqual({
      fileVersions: { "Mapsproccntl.dll": "13.3.600.0" },
      engineState: "deactivated",
      comPlusState: "stopped",
      restartPending: false,
    });
    expect(runner.scripts).toEqual(["probe"]);
  });
});
