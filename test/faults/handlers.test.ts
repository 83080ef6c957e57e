import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { findHotfix } from "../../components/catalog/catalog";
import { create, diff, read, update } from "../../components/provider/hotfixProvider";
import { parseResourceProps, type HotfixResourceInputs } from "../../components/provider/resourceState";
import { parseFleetFile, type FleetFileInput } from "../../simulator/fleetFile";
import { startSimulatedFleet, type SimulatedFleet, type SimulatedHost } from "../../simulator/server";
import { simulatedKb952089 } from "../../simulator/simulatedPackage";
import type { StepRecord } from "../../simulator/stepLog";
import { bringBackScripts, kbRunbookScripts, takeDownScripts } from "../support/kbRunbook";

/**
 * Fault injection against the dynamic provider's handlers, over real SSH to the simulated fleet,
 * without the Pulumi engine. Each test breaks one thing, then checks the error (engine and step
 * named), where the engine ends up, what a refresh (read) reports, and that a rerun converges.
 */

const projectRoot = join(__dirname, "..", "..");
const user = "mps-admin";
const password = "faults-simulated-password-Q4z7";
const packageFile = ((): string => {
  const entry = findHotfix("KB952089");
  if (entry === undefined) throw new Error("the catalog has no KB952089");
  return entry.packageFile;
})();
const dll = "Mapsproccntl.dll";
const oldVersion = "13.3.600.0";
const requiredVersion = "13.3.609.1";
const packagePath = join(projectRoot, simulatedKb952089.path);
const packageSha256 = simulatedKb952089.sha256;
/** A well-formed fingerprint of no key the simulator holds. */
const otherHostKey = `SHA256:${createHash("sha256").update("some other host").digest("base64").replace(/=+$/, "")}`;

type Props = HotfixResourceInputs & { readonly __provider: string };
type Settings = HotfixResourceInputs["settings"];
type EngineInput = FleetFileInput["engines"][number];
type RelayInput = NonNullable<FleetFileInput["relays"]>[number];

interface PropsOptions {
  readonly settings?: Partial<Settings>;
  readonly hostKey?: string;
  readonly password?: string;
  /** Reach the engine through this relay (the engine has no SSH listener). */
  readonly relay?: string;
}

/** Everything an error, a progress line or a log line said during the current test. */
let said: string[] = [];
let sim: SimulatedFleet | undefined;

beforeEach(() => {
  said = [];
  jest.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    said.push(args.map(String).join(" "));
  });
});

afterEach(async () => {
  jest.restoreAllMocks();
  await sim?.stop();
  sim = undefined;
  expect(said.join("\n")).not.toContain(password);
});

function fleet(): SimulatedFleet {
  if (sim === undefined) throw new Error("no simulated fleet is running");
  return sim;
}

async function startFleet(
  engines: readonly EngineInput[],
  relays: readonly RelayInput[] = [],
): Promise<SimulatedFleet> {
  await sim?.stop();
  sim = await startSimulatedFleet(parseFleetFile({ credentials: { user, password }, engines, relays }));
  return sim;
}

function hostNamed(name: string): SimulatedHost {
  const host = fleet().hosts.find((candidate) => candidate.name === name);
  if (host === undefined) throw new Error(`no simulated host ${name}`);
  return host;
}

/** The props Pulumi hands the provider for one engine, shaped as components/engineServer.ts builds them. */
function propsFor(engine: string, options: PropsOptions = {}): Props {
  const hop = hostNamed(options.relay ?? engine);
  const endpoint = {
    name: hop.name,
    host: hop.address,
    port: hop.port,
    user,
    hostKey: options.hostKey ?? hop.hostKeySha256,
  };
  return {
    engine,
    hotfixId: "KB952089",
    route:
      options.relay === undefined
        ? { kind: "direct", endpoint }
        : { kind: "relay", relay: endpoint, engineHost: engine },
    credentials: { [hop.name]: { password: options.password ?? password } },
    target: {
      packageFile,
      packagePath,
      packageSha256,
      binDir: "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin",
      stagingDir: "C:\\Windows\\Temp\\mps-hotfix",
      comPlusApplication: "Provisioning Engine",
      engineControlProgId: "Provisioning.EngineControl",
    },
    settings: {
      connectTimeoutMs: 3000,
      stepTimeoutMs: 10000,
      complusShutdownTimeoutSeconds: 1,
      installAttempts: 4,
      installRetryDelayMs: 50,
      leaveFailedEngineOut: false,
      position: "1 of 1",
      ...options.settings,
    },
    fileVersions: { [dll]: requiredVersion },
    engineState: "active",
    comPlusState: "running",
    restartPending: false,
    __provider: "x",
  };
}

const idOf = (engine: string): string => `${engine}/KB952089`;

interface Failure {
  readonly message: string;
  /** The partial state a failed create or update records (PartialStateError). */
  readonly properties: Record<string, unknown> | undefined;
}

/** The error a handler rejects with; fails the test when the handler succeeds. */
async function failureOf(run: Promise<unknown>): Promise<Failure> {
  const outcome = await run.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  const error = outcome.error;
  const message =
    typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error);
  said.push(message);
  const properties =
    typeof error === "object" && error !== null && "properties" in error
      ? (error.properties as Record<string, unknown>)
      : undefined;
  if (properties !== undefined) said.push(JSON.stringify({ ...properties, credentials: undefined }));
  return { message, properties };
}

/** What the probe reports of an engine that carries the hotfix and is back in rotation. */
const patchedInRotation = {
  fileVersions: { [dll]: requiredVersion },
  engineState: "active",
  comPlusState: "running",
  restartPending: false,
};

/** The state keys as the host really has them. */
function truthOf(
  engine: string,
): Pick<HotfixResourceInputs, "fileVersions" | "engineState" | "comPlusState" | "restartPending"> {
  const host = fleet().host(engine);
  return {
    fileVersions: { [dll]: host.files[dll] ?? "missing" },
    engineState: host.engine,
    comPlusState: host.complus,
    restartPending: host.restartPending,
  };
}

function observedOf(
  props: unknown,
): Pick<HotfixResourceInputs, "fileVersions" | "engineState" | "comPlusState" | "restartPending"> {
  const state = parseResourceProps("state", props);
  return {
    fileVersions: state.fileVersions,
    engineState: state.engineState,
    comPlusState: state.comPlusState,
    restartPending: state.restartPending,
  };
}

/** The state without the key only the state has. */
function observedAsInputsOf(props: unknown): Record<string, unknown> {
  const { requiredFileVersions: _required, ...rest } = props as Record<string, unknown>;
  return rest;
}

/** A refresh (read) of the given state reports what the host really has; inputs it gives do too. */
async function expectRefreshShowsTruth(engine: string, state: unknown): Promise<pulumi.dynamic.ReadResult> {
  const refreshed = await read(idOf(engine), state);
  expect(refreshed.id).toBe(idOf(engine));
  expect(observedOf(refreshed.props)).toEqual(truthOf(engine));
  if (refreshed.inputs !== undefined) expect(observedOf(refreshed.inputs)).toEqual(truthOf(engine));
  return refreshed;
}

function expectInRotation(engine: string): void {
  const host = fleet().host(engine);
  expect(host.engine).toBe("active");
  expect(host.complus).toBe("running");
  expect(host.complusResponding).toBe(true);
}

function expectNoSecret(failure: Failure): void {
  expect(failure.message).not.toContain(password);
}

/** Scripts (not connects) the simulator saw on a host, in order. */
function scriptsOn(host: string, from = 0): string[] {
  return fleet()
    .log()
    .slice(from)
    .filter((r) => r.host === host && r.script !== "connect")
    .map((r) => r.script);
}

function recordsOn(host: string, from = 0): StepRecord[] {
  return fleet()
    .log()
    .slice(from)
    .filter((r) => r.host === host);
}

/** Runs the handler again with the fault gone and checks the engine is compliant and in rotation. */
async function expectRerunConverges(
  engine: string,
  props: Props,
  previousState: unknown,
  expectedScripts: readonly string[] = kbRunbookScripts,
): Promise<void> {
  const before = fleet().log().length;
  const result: unknown =
    previousState === undefined ? (await create(props)).outs : (await update(idOf(engine), previousState, props)).outs;
  expect(observedOf(result)).toEqual(patchedInRotation);
  expect(fleet().host(engine).files).toEqual({ [dll]: requiredVersion });
  expectInRotation(engine);
  expect(scriptsOn(engine, before)).toEqual(expectedScripts);
  // Compliant now: the refresh keeps the stack's inputs.
  expect((await expectRefreshShowsTruth(engine, result)).inputs).toBeUndefined();
  expect((await diff(idOf(engine), result, props)).changes).toBe(false);
}

const restoreAndProbe = ["start-complus", "activate-engine", "probe"];

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops the fleet and starts the same engine, healthy, on the same port: the host is back. The
 * refused client's connection is let close first; a host resetting it at once is tested apart.
 */
async function hostComesBack(engine: EngineInput): Promise<void> {
  const port = hostNamed(engine.name).port;
  await pause(300);
  await startFleet([{ ...engine, port, faults: {} }]);
}

describe("a refresh, against the requirement the state was held to", () => {
  const stateOf = (engine: string, requiredFileVersions?: Record<string, string>): Record<string, unknown> => ({
    ...propsFor(engine),
    fileVersions: { [dll]: "13.3.500.0" },
    ...(requiredFileVersions === undefined ? {} : { requiredFileVersions }),
  });

  it("keeps the stack's inputs for an engine newer than required", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: "13.3.1000.0" } }]);
    const refreshed = await read(idOf("MPS01"), stateOf("MPS01", { [dll]: requiredVersion }));
    expect(observedOf(refreshed.props).fileVersions).toEqual({ [dll]: "13.3.1000.0" });
    expect(refreshed.inputs).toBeUndefined();
  });

  it("gives the observation as inputs for an engine behind it, so the diff reads old => required", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: "13.3.600.0" } }]);
    const refreshed = await read(idOf("MPS01"), stateOf("MPS01", { [dll]: requiredVersion }));
    expect(refreshed.inputs).toEqual({ ...observedAsInputsOf(refreshed.props) });
    expect(observedOf(refreshed.inputs).fileVersions).toEqual({ [dll]: "13.3.600.0" });
    expect(refreshed.inputs).not.toHaveProperty("requiredFileVersions");
  });

  it("gives the observation as inputs when the state has no requirement (written before it was recorded)", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: "13.3.1000.0" } }]);
    const refreshed = await read(idOf("MPS01"), stateOf("MPS01"));
    expect(observedOf(refreshed.inputs).fileVersions).toEqual({ [dll]: "13.3.1000.0" });
  });
});

describe("the host cannot be reached or refuses us: nothing is touched", () => {
  const engine: EngineInput = { name: "MPS01", files: { [dll]: oldVersion } };

  test("connection refused: the probe fails fast, names engine and step, the rerun converges once the host is up", async () => {
    await startFleet([{ ...engine, faults: { refuseConnections: true } }]);
    // A refused host's key was never seen; this stack trusts unknown keys, so the rerun's props are the same.
    const props = propsFor("MPS01", { hostKey: "trust-unknown" });
    const { port } = hostNamed("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: cannot connect to MPS01 (127.0.0.1:${port}): connection refused\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(failure.properties).toBeUndefined();
    expectNoSecret(failure);
    expect(fleet().connectionCount("MPS01")).toBe(0);
    expect(fleet().log()).toEqual([]);
    expectInRotation("MPS01");

    const refresh = await failureOf(read(idOf("MPS01"), props));
    expect(refresh.message).toBe(
      `engine MPS01: refresh could not probe the host: cannot connect to MPS01 (127.0.0.1:${port}): connection refused`,
    );
    expectNoSecret(refresh);

    await hostComesBack(engine);
    await expectRerunConverges("MPS01", props, undefined);
  });

  test("TCP accepted, no SSH banner: the run ends within the connect timeout", async () => {
    await startFleet([{ ...engine, faults: { hangAfterConnect: true } }]);
    const props = propsFor("MPS01", { hostKey: "trust-unknown", settings: { connectTimeoutMs: 400 } });
    const { port } = hostNamed("MPS01");
    const started = Date.now();
    const failure = await failureOf(create(props));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: no SSH handshake from MPS01 (127.0.0.1:${port}) within 0.4s\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(failure.properties).toBeUndefined();
    expectNoSecret(failure);
    expect(
      fleet()
        .log()
        .map((r) => r.script),
    ).toEqual(["connect"]);
    expectInRotation("MPS01");

    const refreshStarted = Date.now();
    const refresh = await failureOf(read(idOf("MPS01"), props));
    expect(Date.now() - refreshStarted).toBeLessThan(3000);
    expect(refresh.message).toBe(
      `engine MPS01: refresh could not probe the host: no SSH handshake from MPS01 (127.0.0.1:${port}) within 0.4s`,
    );

    await hostComesBack(engine);
    await expectRerunConverges("MPS01", props, undefined);
  });

  test("authentication rejected: the error names the host and the user, never the password", async () => {
    await startFleet([{ ...engine, faults: { rejectAuth: true } }]);
    const props = propsFor("MPS01", { hostKey: "trust-unknown" });
    const { port } = hostNamed("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: MPS01 (127.0.0.1:${port}) rejected the credentials of user mps-admin\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expectNoSecret(failure);
    const scripts = fleet()
      .log()
      .map((r) => r.script);
    expect(scripts.filter((s) => s !== "connect" && s !== "auth-rejected")).toEqual([]);
    expect(scripts).toContain("auth-rejected");
    expectInRotation("MPS01");

    await hostComesBack(engine);
    await expectRerunConverges("MPS01", props, undefined);
  });

  test("a host that resets the connection right after refusing the credentials: a clear error, nothing unhandled", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: { rejectAuth: true } }]);
    const props = propsFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      /^engine MPS01: step probe failed: MPS01 \(127\.0\.0\.1:\d+\) rejected the credentials of user mps-admin\n/,
    );
    expectNoSecret(failure);
    // The host goes away at once (a reset, as after sshd's MaxAuthTries): the product has already
    // reported its error and must not raise another one from the abandoned connection.
    await fleet().stop();
    await pause(500);
    expect(
      fleet()
        .log()
        .filter((r) => r.script !== "connect" && r.script !== "auth-rejected"),
    ).toEqual([]);
  });

  test("a wrong password: rejected without echoing it; the rerun with the corrected secret converges", async () => {
    await startFleet([engine]);
    const wrong = "wrong-password-Xy81";
    const failure = await failureOf(create(propsFor("MPS01", { password: wrong })));
    expect(failure.message).toMatch(
      /^engine MPS01: step probe failed: MPS01 \(127\.0\.0\.1:\d+\) rejected the credentials of user mps-admin\n/,
    );
    expect(failure.message).not.toContain(wrong);
    expectNoSecret(failure);
    expect(scriptsOn("MPS01").filter((s) => s !== "auth-rejected")).toEqual([]);
    await expectRerunConverges("MPS01", propsFor("MPS01"), undefined);
  });

  test("a host key other than the pinned one: refused before logging on, the offered key is named", async () => {
    await startFleet([engine]);
    const { port, hostKeySha256 } = hostNamed("MPS01");
    const failure = await failureOf(create(propsFor("MPS01", { hostKey: otherHostKey })));
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: refused MPS01 (127.0.0.1:${port}): it offered host key ${hostKeySha256}, the stack pins ${otherHostKey}\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expectNoSecret(failure);
    // Refused before authentication: the simulator saw the connection and nothing else.
    expect(
      fleet()
        .log()
        .map((r) => r.script),
    ).toEqual(["connect"]);
    expectInRotation("MPS01");
    expect(fleet().host("MPS01").files).toEqual({ [dll]: oldVersion });

    const refresh = await failureOf(read(idOf("MPS01"), propsFor("MPS01", { hostKey: otherHostKey })));
    expect(refresh.message).toContain(`it offered host key ${hostKeySha256}`);
    expect(
      fleet()
        .log()
        .filter((r) => r.script !== "connect"),
    ).toEqual([]);

    await expectRerunConverges("MPS01", propsFor("MPS01"), undefined);
  });
});

describe("the connection is lost in the middle of the runbook", () => {
  test.each([
    {
      fault: { dropConnectionAfter: "deactivate-engine" as const },
      step: "deactivate-engine",
      reason: "connection to MPS01 \\(127\\.0\\.0\\.1:\\d+\\) was closed by the host",
      ran: ["probe", "stage-package", "deactivate-engine"],
    },
    {
      fault: { dropConnectionAfter: "shutdown-complus" as const },
      step: "shutdown-complus",
      reason: "connection to MPS01 \\(127\\.0\\.0\\.1:\\d+\\) was closed by the host",
      ran: ["probe", "stage-package", "deactivate-engine", "shutdown-complus"],
    },
    {
      fault: { dropConnectionDuring: "install-package" as const },
      step: "install-package",
      reason: "connection to MPS01 \\(127\\.0\\.0\\.1:\\d+\\) was closed by the host",
      ran: ["probe", "stage-package", "deactivate-engine", "shutdown-complus", "install-package"],
    },
  ])("$step: the engine is put back into rotation over a new connection", async ({ fault, step, reason, ran }) => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: fault }]);
    const props = propsFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      new RegExp(
        `^engine MPS01: step ${step} failed: ${reason}\\n  engine MPS01 is back in rotation \\(COM\\+ application started, engine activated\\)$`,
      ),
    );
    expectNoSecret(failure);
    expect(scriptsOn("MPS01")).toEqual([...ran, ...restoreAndProbe]);
    // The restore ran on a fresh connection: one for the runbook, one for the restore, one for the probe after it.
    const records = recordsOn("MPS01");
    const failedAt = records.findIndex((r) => r.script === step);
    expect(records[failedAt + 1]?.script).toBe("connect");
    expect(fleet().connectionCount("MPS01")).toBe(3);
    expectInRotation("MPS01");
    expect(fleet().host("MPS01").files).toEqual({ [dll]: oldVersion });
    expect(fleet().host("MPS01").installAttempts).toBe(0);

    // The partial state records what the probe after the failure saw, and keeps the provider.
    expect(failure.properties?.["__provider"]).toBe("x");
    expect(observedOf(failure.properties)).toEqual(truthOf("MPS01"));
    await expectRefreshShowsTruth("MPS01", failure.properties);
    expect((await diff(idOf("MPS01"), failure.properties, props)).changes).toBe(true);

    fleet().alter("MPS01", { faults: {} });
    await expectRerunConverges("MPS01", props, failure.properties);
  });
});

describe("a host that stops answering a script", () => {
  test("hangs on shutdown-complus: bounded by the shutdown step's own timeout, then restored by reconnecting", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: { hangOnScript: "shutdown-complus" } }]);
    // shutdown-complus waits for the COM+ application itself, so its bound is the larger of the step
    // timeout and complusShutdownTimeoutSeconds + 30 s: 31 s with the smallest shutdown timeout.
    const props = propsFor("MPS01", { settings: { stepTimeoutMs: 500, complusShutdownTimeoutSeconds: 1 } });
    const { port } = hostNamed("MPS01");
    const started = Date.now();
    const failure = await failureOf(create(props));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(31000);
    expect(elapsed).toBeLessThan(40000);
    expect(failure.message).toBe(
      `engine MPS01: step shutdown-complus failed: MPS01 (127.0.0.1:${port}) did not answer within 31s\n` +
        "  engine MPS01 is back in rotation (COM+ application started, engine activated)",
    );
    expectNoSecret(failure);
    const records = recordsOn("MPS01");
    expect(records.map((r) => r.script)).toEqual([
      "connect",
      ...takeDownScripts,
      "connect",
      "start-complus",
      "activate-engine",
      "connect",
      "probe",
    ]);
    expectInRotation("MPS01");
    expect(observedOf(failure.properties)).toEqual(truthOf("MPS01"));
    await expectRefreshShowsTruth("MPS01", failure.properties);

    fleet().alter("MPS01", { faults: {} });
    await expectRerunConverges("MPS01", props, failure.properties);
  }, 60000);

  test("hangs on install-package: bounded by stepTimeoutMs, then restored; nothing was installed", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: { hangOnScript: "install-package" } }]);
    const props = propsFor("MPS01", { settings: { stepTimeoutMs: 700 } });
    const { port } = hostNamed("MPS01");
    const started = Date.now();
    const failure = await failureOf(create(props));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(failure.message).toBe(
      `engine MPS01: step install-package failed: MPS01 (127.0.0.1:${port}) did not answer within 0.7s\n` +
        "  engine MPS01 is back in rotation (COM+ application started, engine activated)",
    );
    expectNoSecret(failure);
    expect(scriptsOn("MPS01")).toEqual([...takeDownScripts, "install-package", ...restoreAndProbe]);
    expectInRotation("MPS01");
    expect(fleet().host("MPS01").files).toEqual({ [dll]: oldVersion });
    await expectRefreshShowsTruth("MPS01", failure.properties);
    fleet().alter("MPS01", { faults: {} });
    await expectRerunConverges("MPS01", props, failure.properties);
  });
});

describe("msiexec exit codes", () => {
  test("1603: restored, the error names the exit code and the install log with its last lines", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: { installExitCodes: [1603] } }]);
    const props = propsFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      /^engine MPS01: step install-package failed: msiexec exit code 1603 \(fatal error during installation\); install log C:\\Windows\\Temp\\mps-hotfix\\KB952089-\d{8}-\d{6}-attempt1\.log\n  last lines of the install log:\n/,
    );
    expect(failure.message).toContain("Installation failed with error 1603.");
    expect(failure.message).toMatch(
      /\n {2}engine MPS01 is back in rotation \(COM\+ application started, engine activated\)$/,
    );
    expectNoSecret(failure);
    expect(scriptsOn("MPS01")).toEqual([...takeDownScripts, "install-package", "read-install-log", ...restoreAndProbe]);
    expectInRotation("MPS01");
    expect(observedOf(failure.properties)).toEqual(truthOf("MPS01"));
    await expectRefreshShowsTruth("MPS01", failure.properties);
    // The forced code is used up: the next install behaves normally.
    await expectRerunConverges("MPS01", props, failure.properties);
  });

  test("1618 twice, then success: retried with doubling back-off, three attempts in the step log", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: { installExitCodes: [1618, 1618, 0] } }]);
    const props = propsFor("MPS01", { settings: { installAttempts: 4, installRetryDelayMs: 100 } });
    const started = Date.now();
    const result = await create(props);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(result.id).toBe(idOf("MPS01"));
    expect(observedOf(result.outs)).toEqual(patchedInRotation);
    const installs = recordsOn("MPS01").filter((r) => r.script === "install-package");
    expect(installs.map((r) => r.exitCode)).toEqual([1618, 1618, 0]);
    expect(fleet().host("MPS01").installAttempts).toBe(3);
    expect(scriptsOn("MPS01")).toEqual([
      ...takeDownScripts,
      "install-package",
      "install-package",
      "install-package",
      ...bringBackScripts,
    ]);
    const retries = said.filter((line) => line.includes("install-package: msiexec exit code 1618"));
    expect(retries).toEqual([
      "[MPS01 1 of 1] KB952089 install-package: msiexec exit code 1618 (another installation is already in progress); attempt 2 of 4 in 0.1s",
      "[MPS01 1 of 1] KB952089 install-package: msiexec exit code 1618 (another installation is already in progress); attempt 3 of 4 in 0.2s",
    ]);
    // Each attempt logs to its own file.
    expect(new Set(fleet().host("MPS01").installLogs).size).toBe(3);
    expectInRotation("MPS01");
    await expectRefreshShowsTruth("MPS01", result.outs);
  });

  test("1618 on every attempt: a clear failure after installAttempts, restored", async () => {
    await startFleet([
      { name: "MPS01", files: { [dll]: oldVersion }, faults: { installExitCodes: [1618, 1618, 1618] } },
    ]);
    const props = propsFor("MPS01", { settings: { installAttempts: 3, installRetryDelayMs: 20 } });
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      /^engine MPS01: step install-package failed: msiexec exit code 1618 \(another installation is already in progress\) after 3 attempts; install log C:\\Windows\\Temp\\mps-hotfix\\KB952089-\d{8}-\d{6}-attempt3\.log/,
    );
    expect(failure.message).toContain("Another installation is already in progress.");
    expect(failure.message).toContain("engine MPS01 is back in rotation");
    expectNoSecret(failure);
    expect(recordsOn("MPS01").filter((r) => r.script === "install-package")).toHaveLength(3);
    expect(fleet().host("MPS01").installAttempts).toBe(3);
    expectInRotation("MPS01");
    expect(fleet().host("MPS01").files).toEqual({ [dll]: oldVersion });
    await expectRefreshShowsTruth("MPS01", failure.properties);
    await expectRerunConverges("MPS01", props, failure.properties);
  });

  test("3010: COM+ started again before the install; restart pending is recorded and blocks the rerun until a restart", async () => {
    // The simulator answers 3010 only when a running COM+ application holds the DLL at install time.
    // The runbook stops it first, so the application is started on demand (as a COM+ server
    // application is when a request arrives) between shutdown-complus and install-package.
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion } }]);
    const unsubscribe = fleet().onStep((record) => {
      if (record.host === "MPS01" && record.script === "shutdown-complus")
        fleet().alter("MPS01", { complus: "running" });
    });
    const props = propsFor("MPS01");
    const failure = await failureOf(create(props));
    unsubscribe();
    expect(failure.message).toMatch(
      /^engine MPS01: step install-package failed: msiexec exit code 3010 \(installed; a restart is required to complete it\); the engine is not compliant until the host restarts; install log C:\\Windows\\Temp\\mps-hotfix\\KB952089-\d{8}-\d{6}-attempt1\.log/,
    );
    expect(failure.message).toContain("engine MPS01 is back in rotation");
    expectNoSecret(failure);
    const host = fleet().host("MPS01");
    expect(host.restartPending).toBe(true);
    expect(host.pendingFiles).toEqual({ [dll]: requiredVersion });
    expect(host.files).toEqual({ [dll]: oldVersion });
    expectInRotation("MPS01");
    expect(observedOf(failure.properties)).toEqual({
      fileVersions: { [dll]: oldVersion },
      engineState: "active",
      comPlusState: "running",
      restartPending: true,
    });
    await expectRefreshShowsTruth("MPS01", failure.properties);
    expect((await diff(idOf("MPS01"), failure.properties, props)).changes).toBe(true);

    // Before the restart the rerun refuses at the probe and touches nothing.
    const before = fleet().log().length;
    const blocked = await failureOf(update(idOf("MPS01"), failure.properties, props));
    expect(blocked.message).toBe(
      "engine MPS01: step probe failed: a restart is pending on this host (an earlier install returned 3010 or 1641); restart it in a change window, then run up again\n" +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(scriptsOn("MPS01", before)).toEqual(["probe"]);

    // After the restart the replaced file is in place: the refresh shows it and nothing is left to do.
    fleet().restartHost("MPS01");
    const refreshed = await read(idOf("MPS01"), failure.properties);
    expect(observedOf(refreshed.props)).toEqual(patchedInRotation);
    expect((await diff(idOf("MPS01"), refreshed.props, props)).changes).toBe(false);
    await expectRerunConverges("MPS01", props, refreshed.props, ["probe"]);
  });

  test("leaveFailedEngineOut with 1603: the engine stays deactivated and the error says so loudly", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: { installExitCodes: [1603] } }]);
    const props = propsFor("MPS01", { settings: { leaveFailedEngineOut: true } });
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(/^engine MPS01: step install-package failed: msiexec exit code 1603 /);
    expect(failure.message).toContain(
      "ENGINE MPS01 IS LEFT OUT OF ROTATION, as the stack asks (rollout.leaveFailedEngineOut): it stays deactivated, its COM+ application possibly stopped, until you act",
    );
    expectNoSecret(failure);
    expect(scriptsOn("MPS01")).toEqual([...takeDownScripts, "install-package", "read-install-log", "probe"]);
    expect(fleet().host("MPS01").engine).toBe("deactivated");
    expect(fleet().host("MPS01").complus).toBe("stopped");
    expect(observedOf(failure.properties)).toEqual({
      fileVersions: { [dll]: oldVersion },
      engineState: "deactivated",
      comPlusState: "stopped",
      restartPending: false,
    });
    await expectRefreshShowsTruth("MPS01", failure.properties);
    expect((await diff(idOf("MPS01"), failure.properties, props)).changes).toBe(true);
    await expectRerunConverges("MPS01", props, failure.properties);
  });
});

describe("what the host says cannot be trusted: refused before anything changes", () => {
  test.each([
    { probeAnswer: "garbage" as const, reason: 'unexpected answer to probe: line 1 is not key=value: "#< CLIXML"' },
    { probeAnswer: "empty" as const, reason: "unexpected answer to probe: the host printed nothing" },
    {
      probeAnswer: "bad-version" as const,
      reason: `unexpected answer to probe: files.${dll}: must be a file version of four numbers, each 0-65535, such as 13.3.609.1`,
    },
  ])("probe answers $probeAnswer: a clear error, and the probe is the only step", async ({ probeAnswer, reason }) => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: { probeAnswer } }]);
    const props = propsFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: ${reason}\n  engine MPS01 was not taken out of rotation`,
    );
    expect(failure.properties).toBeUndefined();
    expectNoSecret(failure);
    expect(scriptsOn("MPS01")).toEqual(["probe"]);
    expectInRotation("MPS01");

    const refresh = await failureOf(read(idOf("MPS01"), props));
    expect(refresh.message).toBe(`engine MPS01: refresh could not probe the host: ${reason}`);
    expect(scriptsOn("MPS01")).toEqual(["probe", "probe"]);

    fleet().alter("MPS01", { faults: {} });
    await expectRefreshShowsTruth("MPS01", props);
    await expectRerunConverges("MPS01", props, undefined);
  });

  test("the staged package's SHA-256 differs: refused before deactivation, nothing after stage-package", async () => {
    await startFleet([{ name: "MPS01", files: { [dll]: oldVersion }, faults: { corruptStagedPackage: true } }]);
    const props = propsFor("MPS01");
    const failure = await failureOf(create(props));
    const staged = fleet().host("MPS01").stagedPackages;
    expect(staged).toHaveLength(1);
    expect(staged[0]?.sha256).not.toBe(packageSha256);
    expect(failure.message).toBe(
      `engine MPS01: step stage-package failed: the package staged at C:\\Windows\\Temp\\mps-hotfix\\KB952089.msi has SHA-256 ${staged[0]?.sha256}, the stack pins ${packageSha256}; refusing to install it\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(failure.properties).toBeUndefined();
    expectNoSecret(failure);
    expect(scriptsOn("MPS01")).toEqual(["probe", "stage-package"]);
    expectInRotation("MPS01");
    expect(fleet().host("MPS01").installAttempts).toBe(0);
    await expectRefreshShowsTruth("MPS01", props);

    fleet().alter("MPS01", { faults: {} });
    await expectRerunConverges("MPS01", props, undefined);
  });
});

describe("an engine behind a relay", () => {
  test("the relay is up, the engine is not reachable over WinRM: the error names the relay and the engine", async () => {
    await startFleet(
      [{ name: "MPS05", ssh: false, files: { [dll]: oldVersion }, faults: { winrmUnreachable: true } }],
      [{ name: "RELAY1" }],
    );
    const props = propsFor("MPS05", { relay: "RELAY1" });
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      /^engine MPS05: step probe failed: relay RELAY1 could not reach engine MPS05 \(MPS05\) over WinRM: Connecting to remote server MPS05 failed .*WinRM cannot complete the operation/,
    );
    expect(failure.message).toMatch(/\n {2}engine MPS05 was not taken out of rotation$/);
    expectNoSecret(failure);
    expect(
      fleet()
        .log()
        .filter((r) => r.script !== "connect")
        .map((r) => [r.host, r.via, r.script]),
    ).toEqual([["MPS05", "RELAY1", "probe"]]);
    expectInRotation("MPS05");

    const refresh = await failureOf(read(idOf("MPS05"), props));
    expect(refresh.message).toMatch(
      /^engine MPS05: refresh could not probe the host: relay RELAY1 could not reach engine MPS05/,
    );

    fleet().alter("MPS05", { faults: {} });
    await expectRerunConverges("MPS05", props, undefined);
    expect(
      fleet()
        .log()
        .filter((r) => r.host === "MPS05")
        .every((r) => r.via === "RELAY1"),
    ).toBe(true);
  });
});
