import * as pulumi from "@pulumi/pulumi";
import { utils as sshUtils } from "ssh2";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { planFleet } from "../../components/config/fleetPlan";
import { maintenanceSettingsOf, type RolloutSettings } from "../../components/config/fleetConfig";
import { findHotfix } from "../../components/domain/catalog";
import { driftReasons } from "../../components/domain/drift";
import { sshHopOf } from "../../components/domain/endpoint";
import { EngineName } from "../../components/domain/fields";
import { FileVersionText } from "../../components/domain/fileVersion";
import { inRotation } from "../../components/domain/observation";
import type { HotfixRequirements } from "../../components/domain/requirement";
import { HostSettings, MaintenanceSettings, hostPath } from "../../components/domain/target";
import { check, configure, create, diff, read, update } from "../../components/provider/hotfixProvider";
import {
  EngineHotfixesInputs,
  EngineHotfixesState,
  resourceInputsFor,
  stateSchemaVersion,
} from "../../components/provider/resourceState";
import { runProgramVariable } from "../../components/provider/programRun";
import { credentialsKey, fleetKey } from "../../components/provider/stackSettings";
import { RunbookError, type Rotation } from "../../components/runbook/runbookError";
import { rotationNotice } from "../../components/runbook/operatorMessages";
import type { StepName } from "../../components/runbook/steps";
import type { EngineFaults, FleetFileInput } from "../../simulator/fleetFile";
import { parseFleetFile } from "../../simulator/fleetFile";
import { startSimulatedFleet, type SimulatedFleet, type SimulatedHost } from "../../simulator/server";
import { readSimulatedPackage, simulatedKb952089 } from "../../simulator/simulatedPackage";
import type { StepRecord } from "../../simulator/stepLog";
import { bringBackScripts, kbRunbookScripts, takeDownScripts } from "../support/kbRunbook";

/**
 * Fault injection against the dynamic provider's handlers, over real SSH to the simulated fleet,
 * without the Pulumi engine. Each test breaks one thing, then checks the error (engine and step
 * named), where the engine ends up, what a refresh (read) reports, and that a rerun converges.
 * The inputs are built as the program builds them: the stack's fleet config through planFleet,
 * then resourceInputsFor; the credentials reach the handlers through configure only.
 */

// These handlers run as in a host the product's commands start, which run the program every time.
process.env[runProgramVariable] = "true";

const projectRoot = join(__dirname, "..", "..");
const user = "mps-admin";
const password = "faults-simulated-password-Q4z7";
/** What Pulumi passes as `__provider`; a failed create or update must keep it in the state it records. */
const serializedProvider = "serialized-provider";

const kb952089 = ((): NonNullable<ReturnType<typeof findHotfix>> => {
  const entry = findHotfix("KB952089");
  if (entry === undefined) throw new Error("the catalog has no KB952089");
  return entry;
})();
const hotfix = kb952089.id;
const dll = kb952089.files[0]!.name;
const requiredVersion = kb952089.files[0]!.version;
const oldVersion = "13.3.600.0";
const binDir = HostSettings.parse({}).binDir;
const dllPath = hostPath(binDir, dll);
/** Where the simulated msiexec leaves a held file's new version until the restart moves it into place. */
const heldCopy = `${binDir}\\MSI4F2A.tmp`;
const packagePath = join(projectRoot, simulatedKb952089.path);
const packageSha256 = simulatedKb952089.sha256;
/** A well-formed fingerprint of no key the simulator holds. */
const otherHostKey = `SHA256:${createHash("sha256").update("some other host").digest("base64").replace(/=+$/, "")}`;

type Props = EngineHotfixesInputs & { readonly __provider: string };
type Observed = Pick<
  EngineHotfixesState,
  "files" | "engineState" | "comPlusState" | "comPlusResponding" | "restartPending"
>;
type EngineInput = FleetFileInput["engines"][number];
type RelayInput = NonNullable<FleetFileInput["relays"]>[number];

/** Everything an error, a progress line or a log line said during the current test. */
let said: string[] = [];
/** Texts that must appear nowhere: the simulator's password, and any other secret a test uses. */
let secrets: string[] = [];
let sim: SimulatedFleet | undefined;

beforeEach(() => {
  said = [];
  secrets = [password];
  jest.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    said.push(args.map(String).join(" "));
  });
});

afterEach(async () => {
  jest.restoreAllMocks();
  await sim?.stop();
  sim = undefined;
  for (const secret of secrets) expect(said.join("\n")).not.toContain(secret);
});

// ---------------------------------------------------------------------------------------------
// The simulated fleet

function fleet(): SimulatedFleet {
  if (sim === undefined) throw new Error("no simulated fleet is running");
  return sim;
}

/** A simulated engine with SSH that is behind on the hotfix and has no fault, unless told otherwise. */
function simEngine(overrides: Partial<EngineInput> = {}, name = "MPS01"): EngineInput {
  return { name, files: { [dll]: oldVersion }, ...overrides };
}

/** The default engine with one fault. */
const faulty = (faults: EngineFaults): EngineInput => simEngine({ faults });

async function startFleet(
  engines: readonly EngineInput[] = [simEngine()],
  relays: readonly RelayInput[] = [],
  /** An OpenSSH public key every simulated host also accepts for the user. */
  publicKey?: string,
): Promise<SimulatedFleet> {
  await sim?.stop();
  const credentials = { user, password, ...(publicKey === undefined ? {} : { publicKey }) };
  sim = await startSimulatedFleet(parseFleetFile({ credentials, engines, relays }));
  return sim;
}

function hostNamed(name: string): SimulatedHost {
  const host = fleet().hosts.find((candidate) => candidate.name === name);
  if (host === undefined) throw new Error(`no simulated host ${name}`);
  return host;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops the fleet and starts the same engine, healthy, on the same port: the host is back (with a
 * new host key). The refused client's connection is let close first; a host resetting it at once
 * is tested apart.
 */
async function hostComesBack(engine: EngineInput): Promise<void> {
  const port = hostNamed(engine.name).port;
  await pause(300);
  await startFleet([{ ...engine, port, faults: {} }]);
}

/** The running fleet started again with these step delays (same engines, same ports). */
async function restartWithDelays(stepDelaysMs: Record<string, number>): Promise<SimulatedFleet> {
  const engines = fleet().hosts.map((host) => simEngine({ port: host.port }, host.name));
  await sim?.stop();
  await pause(100);
  return startSimulatedFleet(parseFleetFile({ credentials: { user, password }, engines, stepDelaysMs }));
}

/** Runs `change` once, right after the simulator records `script` on `host`. */
function once(host: string, script: StepRecord["script"], change: () => void): void {
  const unsubscribe = fleet().onStep((record) => {
    if (record.host !== host || record.script !== script) return;
    unsubscribe();
    change();
  });
}

// ---------------------------------------------------------------------------------------------
// The stack: its fleet config, its credentials, and the inputs the program derives from them

interface StackOptions {
  readonly settings?: Partial<z.input<typeof RolloutSettings>>;
  /** Pin this key instead of the one the simulated host holds. */
  readonly hostKey?: string;
  /** Trust whatever key the host offers (a host whose key the stack never saw). */
  readonly trustUnknownHostKey?: true;
  /** Reach the engine through this relay (the engine has no SSH listener). */
  readonly relay?: string;
  /** The stack's `mps-hotfix:credentials`; by default the simulator's password for every host. */
  readonly credentials?: Record<string, unknown>;
}

/** The `mps-hotfix:fleet` value the handlers were last configured with. */
let fleetConfig: Record<string, unknown> = {};

/** Every simulated SSH host with `secret` as its password. */
function credentialsOfFleet(secret = password): Record<string, { password: string }> {
  return Object.fromEntries(fleet().hosts.map((host) => [host.name, { password: secret }]));
}

/** Passes the stack's config to the handlers, as the engine does before their first call. */
async function configureStack(credentials: Record<string, unknown> = credentialsOfFleet()): Promise<void> {
  const values: Record<string, string> = {
    [credentialsKey]: JSON.stringify(credentials),
    [fleetKey]: JSON.stringify(fleetConfig),
  };
  await configure({
    config: {
      get: (key) => values[key],
      require: (key) => {
        const value = values[key];
        if (value === undefined) throw new Error(`missing config ${key}`);
        return value;
      },
    },
  });
}

function endpointConfig(host: SimulatedHost, options: StackOptions): Record<string, unknown> {
  const key =
    options.trustUnknownHostKey === true
      ? { trustUnknownHostKey: true }
      : { hostKey: options.hostKey ?? host.hostKeySha256 };
  return { host: host.address, port: host.port, user, ...key };
}

/**
 * A stack of one engine of the running fleet: the handlers are configured with its config, and
 * the props Pulumi hands them are what the program declares (planFleet, then resourceInputsFor).
 */
async function stackFor(engine: string, options: StackOptions = {}): Promise<Props> {
  const relay = options.relay;
  fleetConfig = {
    hotfixes: [hotfix],
    packages: { [hotfix]: simulatedKb952089 },
    rollout: {
      connectTimeoutSeconds: 3,
      stepTimeoutSeconds: 10,
      complusShutdownTimeoutSeconds: 1,
      installAttempts: 4,
      installRetryDelaySeconds: 0.05,
      ...options.settings,
    },
    relays: relay === undefined ? [] : [{ name: relay, ...endpointConfig(hostNamed(relay), options) }],
    engines: [
      relay === undefined
        ? { name: engine, ...endpointConfig(hostNamed(engine), options) }
        : { name: engine, host: engine, relay },
    ],
  };
  const credentials = options.credentials ?? credentialsOfFleet();
  // The plan sees every credential (a stack that lacks one is refused before any resource exists);
  // `options.credentials` is what the handlers get, which a test may break on its own.
  const plan = planFleet({
    stack: "faults",
    fleet: fleetConfig,
    credentials: credentialsOfFleet(),
    credentialsAreSecret: true,
    baseDir: projectRoot,
  });
  await configureStack(credentials);
  return {
    ...resourceInputsFor(plan.engines[0]!, maintenanceSettingsOf(plan.rollout)),
    __provider: serializedProvider,
  };
}

/** The inputs as a refresh gives them back: what the stack declared, without Pulumi's key. */
function inputsOf(props: Props): EngineHotfixesInputs {
  const { __provider: _provider, ...inputs } = props;
  return inputs;
}

// ---------------------------------------------------------------------------------------------
// What the hosts and the handlers say

interface Failure {
  /** The handler's error, without the rollout's halt notice (checked apart, in `halt`). */
  readonly message: string;
  /** The partial state a failed create or update records (PartialStateError). */
  readonly properties: Record<string, unknown> | undefined;
  /**
   * The rollout's last line: these stacks allow no failure (rollout.maxFailures 0), so every failed
   * maintenance halts the rollout. The handlers' process counts failures for the whole run, which
   * here is every test of the file, so only its form is checked.
   */
  readonly halt: string | undefined;
}

const haltNotice = /\n {2}(the rollout halts: \d+ engine\(s\) failed \([^)]*\), more than rollout\.maxFailures \(0\))$/;

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
  const halted = haltNotice.exec(message);
  const properties =
    typeof error === "object" && error !== null && "properties" in error
      ? (error.properties as Record<string, unknown>)
      : undefined;
  if (properties !== undefined) said.push(JSON.stringify(properties));
  return {
    message: halted === null ? message : message.slice(0, halted.index),
    properties,
    halt: halted?.[1],
  };
}

/** Paths of keys that would hold a secret, anywhere in a value. */
function secretKeysIn(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => secretKeysIn(item, `${path}[${i}]`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => [
    ...(["credentials", "password", "privateKey"].includes(key) ? [`${path}.${key}`] : []),
    ...secretKeysIn(item, `${path}.${key}`),
  ]);
}

/** No credential in what a handler returns or records: no key for one, no secret's text. */
function expectNoCredentials(value: unknown): void {
  expect(secretKeysIn(value)).toEqual([]);
  const text = value === undefined ? "" : JSON.stringify(value);
  for (const secret of secrets) expect(text).not.toContain(secret);
  said.push(text);
}

function expectNoSecret(failure: Failure): void {
  for (const secret of secrets) expect(failure.message).not.toContain(secret);
  expectNoCredentials(failure.properties);
}

/** What the probe reports of an engine that carries the hotfix and is back in rotation. */
const patchedInRotation: Observed = { files: { [hotfix]: { [dll]: requiredVersion } }, ...inRotation };

/** The observed keys as the host really has them. */
function truthOf(engine: string): Observed {
  const host = fleet().host(engine);
  return {
    files: { [hotfix]: { [dll]: host.files[dll] ?? "missing" } },
    engineState: host.engine,
    comPlusState: host.complus,
    ...(host.complus === "running" ? { comPlusResponding: host.complusResponding } : {}),
    restartPending: host.restartPending,
  };
}

/** The observed keys of a state this release wrote (schema version 2, checked). */
function observedOf(props: unknown): Observed {
  const state = EngineHotfixesState.parse(props);
  return {
    files: state.files,
    engineState: state.engineState,
    comPlusState: state.comPlusState,
    ...(state.comPlusResponding === undefined ? {} : { comPlusResponding: state.comPlusResponding }),
    restartPending: state.restartPending,
  };
}

/** The state a maintenance would have recorded for these inputs: observed files, held to a requirement. */
function recordedState(
  props: Props,
  files: EngineHotfixesState["files"],
  required?: HotfixRequirements,
): Record<string, unknown> {
  return { ...props, files, ...(required === undefined ? {} : { required }) };
}

/** The state as a refresh gives it back as inputs: without the requirement it was held to, or the last run's outcome. */
/** The state as inputs: without the requirement it was held to, the last run, or whether COM+ answered (never an input). */
function withoutRequirement(props: unknown): Record<string, unknown> {
  const {
    required: _required,
    lastRun: _lastRun,
    comPlusResponding: _responding,
    ...rest
  } = props as Record<string, unknown>;
  return rest;
}

/**
 * A refresh (read) of the given state reports what the host really has, in this release's schema.
 * Its inputs are the observation, with the requirement's files where the engine meets the
 * requirement the state was held to (so the diff shows a change only where the engine falls short).
 */
async function expectRefreshShowsTruth(engine: string, state: unknown): Promise<pulumi.dynamic.ReadResult> {
  const held = EngineHotfixesState.partial().parse(state).required;
  const refreshed = await read(engine, state);
  expect(refreshed.id).toBe(engine);
  expectNoCredentials(refreshed);
  const truth = truthOf(engine);
  expect(observedOf(refreshed.props)).toEqual(truth);
  expect(EngineHotfixesState.parse(refreshed.props).schemaVersion).toBe(stateSchemaVersion);
  const meets = held !== undefined && driftReasons(truth, held).length === 0;
  expect(refreshed.inputs).toEqual({ ...withoutRequirement(refreshed.props), files: meets ? held : truth.files });
  return refreshed;
}

function expectInRotation(engine: string): void {
  const host = fleet().host(engine);
  expect(host.engine).toBe("active");
  expect(host.complus).toBe("running");
  expect(host.complusResponding).toBe(true);
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
  const result =
    previousState === undefined ? await create(props) : { id: engine, ...(await update(engine, previousState, props)) };
  expect(result.id).toBe(engine);
  expectNoCredentials(result.outs);
  expect(observedOf(result.outs)).toEqual(patchedInRotation);
  expect(fleet().host(engine).files).toEqual({ [dll]: requiredVersion });
  expectInRotation(engine);
  expect(scriptsOn(engine, before)).toEqual(expectedScripts);
  // Compliant now: the refresh gives the stack's own inputs back, so the next diff has nothing.
  const refreshed = await expectRefreshShowsTruth(engine, result.outs);
  expect(refreshed.inputs).toEqual(inputsOf(props));
  expect((await diff(engine, refreshed.props, props)).changes).toBe(false);
  expect((await diff(engine, result.outs, props)).changes).toBe(false);
}

interface FailedRun {
  readonly engine?: string;
  readonly props: Props;
  readonly failure: Failure;
  /** The step the error must name. */
  readonly step: StepName;
  /** Where the engine stands after the failure, as the error's last line must say. */
  readonly rotation: Rotation;
  /** What the recorded state must hold; by default what the host really has. */
  readonly recorded?: Observed;
  /** The refresh's error while the fault lasts; by default the refresh works and shows the truth. */
  readonly refreshFails?: string | RegExp;
  /** The maintenance failed, yet the engine ended compliant (an install that finished on its own): no drift to show. */
  readonly endedCompliant?: true;
  /**
   * Why the refresh could not reach the host while the fault lasts: the refresh does not fail (the
   * rest of the fleet is still read), it keeps what was last known and records this as `unreachable`.
   */
  readonly refreshUnreachable?: string | RegExp;
}

/**
 * The first half of the recovery tail: the error names engine and step and says where the engine
 * stands, which is where it is; no secret anywhere; a failure past the take-down records a state
 * (keeping the provider), one before it records none; a refresh reports the host or says why not.
 */
async function expectFailureReported(run: FailedRun): Promise<void> {
  const engine = run.engine ?? run.props.engine;
  const { message, properties } = run.failure;
  expect(message.startsWith(`engine ${engine}: step ${run.step} failed: `)).toBe(true);
  expect(message.endsWith(`\n  ${rotationNotice(new RunbookError(engine, run.step, "", run.rotation))}`)).toBe(true);
  expectNoSecret(run.failure);

  const host = fleet().host(engine);
  if (run.rotation === "left-out-by-request") {
    expect(host.engine).toBe("deactivated");
    expect(host.complus).toBe("stopped");
  } else {
    expectInRotation(engine);
  }

  if (run.rotation === "untouched") {
    expect(properties).toBeUndefined();
  } else {
    expect(properties?.["__provider"]).toBe(serializedProvider);
    expect(observedOf(properties)).toEqual(run.recorded ?? truthOf(engine));
    expect(EngineHotfixesState.parse(properties).required).toEqual(run.props.files);
    expect((await diff(engine, properties, run.props)).changes).toBe(run.endedCompliant !== true);
  }

  const state = properties ?? run.props;
  if (run.refreshUnreachable !== undefined) {
    const refreshed = await read(engine, state);
    expectNoCredentials(refreshed);
    const kept = EngineHotfixesState.parse(refreshed.props);
    expect(kept.unreachable).toMatch(run.refreshUnreachable);
    expect(observedOf(kept)).toEqual(observedOf(EngineHotfixesState.parse({ ...state, lastRun: null })));
    // An engine the refresh could not read is never shown as compliant.
    expect((await diff(engine, refreshed.props, run.props)).changes).toBe(true);
  } else if (run.refreshFails === undefined) {
    await expectRefreshShowsTruth(engine, state);
  } else {
    const refresh = await failureOf(read(engine, state));
    expect(refresh.message).toMatch(run.refreshFails);
    expect(refresh.message.startsWith(`engine ${engine}: refresh could not probe the host: `)).toBe(true);
    expectNoSecret(refresh);
  }
}

/**
 * The whole recovery tail: the failure as above, then the fault is removed (the engine's faults
 * cleared unless `fix` says otherwise), a refresh shows the truth, and the rerun converges.
 */
async function expectRecovery(
  run: FailedRun & { readonly fix?: () => Promise<void> | void; readonly rerunScripts?: readonly string[] },
): Promise<void> {
  const engine = run.engine ?? run.props.engine;
  await expectFailureReported(run);
  await (run.fix ?? (() => fleet().alter(engine, { faults: {} })))();
  const state = run.failure.properties ?? run.props;
  if (run.refreshFails !== undefined || run.refreshUnreachable !== undefined)
    await expectRefreshShowsTruth(engine, state);
  await expectRerunConverges(engine, run.props, run.failure.properties, run.rerunScripts);
}

const restoreAndProbe = ["start-complus", "activate-engine", "probe"];

// ---------------------------------------------------------------------------------------------

test("the simulated package installs what the catalog requires", () => {
  const installs = readSimulatedPackage(readFileSync(packagePath))?.installs;
  expect(installs).toEqual({ [dll]: requiredVersion });
  expect(createHash("sha256").update(readFileSync(packagePath)).digest("hex")).toBe(packageSha256);
});

describe("check: every problem with its property, and inputs not known yet pass", () => {
  test("bad inputs are refused with the property and the reason of each problem, no host contacted", async () => {
    await startFleet();
    const props = await stackFor("MPS01");
    const staleSecret = "stale-secret-in-inputs-K2";
    secrets.push(staleSecret);
    const badEngine = "MPS01';calc;'";
    const badVersion = "13.3.609";
    const { schemaVersion: _schemaVersion, ...unversioned } = props;
    const news = {
      ...unversioned,
      engine: badEngine,
      settings: { ...props.settings, connectTimeoutSeconds: 0 },
      files: { [hotfix]: { [dll]: badVersion } },
      credentials: { MPS01: { password: staleSecret } },
    };
    const result = await check(props, news);
    const reasonOf = (schema: z.ZodType, value: unknown): string | undefined =>
      schema.safeParse(value).error?.issues[0]?.message;
    expect(result.failures).toEqual(
      expect.arrayContaining([
        { property: "schemaVersion", reason: reasonOf(EngineHotfixesInputs.shape.schemaVersion, undefined) },
        { property: "engine", reason: reasonOf(EngineName, badEngine) },
        {
          property: "settings.connectTimeoutSeconds",
          reason: reasonOf(MaintenanceSettings.shape.connectTimeoutSeconds, 0),
        },
        { property: `files.${hotfix}.${dll}`, reason: reasonOf(FileVersionText, badVersion) },
        { property: "(inputs)", reason: expect.stringContaining('"credentials"') as unknown },
      ]),
    );
    expect(result.failures).toHaveLength(5);
    for (const failure of result.failures ?? []) {
      expect(failure.reason).toEqual(expect.any(String));
      expect(failure.reason).not.toContain(staleSecret);
    }
    expect(result.inputs).toBe(news);
    expect(fleet().connectionCount()).toBe(0);
  });

  test("the program's inputs pass as they are", async () => {
    await startFleet();
    const props = await stackFor("MPS01");
    const result = await check(undefined, props);
    expect(result.failures ?? []).toEqual([]);
    expect(result.inputs).toBe(props);
  });

  test("inputs holding unknown values pass: a preview cannot know them yet; create waits for them", async () => {
    await startFleet();
    const props = await stackFor("MPS01");
    const unknown: unknown = pulumi.runtime.unknownValue;
    for (const news of [
      { ...props, route: unknown },
      { ...props, packages: props.packages.map((pkg) => ({ ...pkg, sha256: unknown })) },
    ]) {
      const result = await check(props, news);
      expect(result.failures ?? []).toEqual([]);
      expect(result.inputs).toBe(news);
      expect((await diff("MPS01", props, news)).changes).toBe(true);
    }
    const early = await failureOf(create({ ...props, route: unknown }));
    expect(early.message).toContain("inputs are not known yet");
    expect(fleet().connectionCount()).toBe(0);
  });
});

describe("a refresh, against the requirement the state was held to", () => {
  test("keeps the stack's requirement as inputs for an engine newer than required", async () => {
    await startFleet([simEngine({ files: { [dll]: "13.3.1000.0" } })]);
    const props = await stackFor("MPS01");
    const state = recordedState(props, { [hotfix]: { [dll]: "13.3.500.0" } }, props.files);
    const refreshed = await expectRefreshShowsTruth("MPS01", state);
    expect(observedOf(refreshed.props).files).toEqual({ [hotfix]: { [dll]: "13.3.1000.0" } });
    expect(refreshed.inputs).toEqual(inputsOf(props));
    expect((await diff("MPS01", refreshed.props, props)).changes).toBe(false);
  });

  test("gives the observation as inputs for an engine behind it, so the diff reads old => required", async () => {
    await startFleet();
    const props = await stackFor("MPS01");
    const state = recordedState(props, { [hotfix]: { [dll]: "13.3.500.0" } }, props.files);
    const refreshed = await expectRefreshShowsTruth("MPS01", state);
    expect(refreshed.inputs).toEqual(withoutRequirement(refreshed.props));
    expect(EngineHotfixesInputs.parse(refreshed.inputs).files).toEqual({ [hotfix]: { [dll]: oldVersion } });
    expect(refreshed.inputs).not.toHaveProperty("required");
    expect((await diff("MPS01", refreshed.props, props)).changes).toBe(true);
  });

  test("gives the observation as inputs when the state has no requirement (written before it was recorded)", async () => {
    await startFleet([simEngine({ files: { [dll]: "13.3.1000.0" } })]);
    const props = await stackFor("MPS01");
    const refreshed = await expectRefreshShowsTruth("MPS01", recordedState(props, { [hotfix]: { [dll]: oldVersion } }));
    expect(EngineHotfixesInputs.parse(refreshed.inputs).files).toEqual({ [hotfix]: { [dll]: "13.3.1000.0" } });
  });
});

describe("a refresh of release 0.1's state", () => {
  const Release01State = z.object({
    deployment: z.object({
      resources: z.array(
        z.object({
          type: z.string(),
          id: z.string().optional(),
          outputs: z.record(z.string(), z.unknown()).optional(),
        }),
      ),
    }),
  });
  const Release01Endpoint = z.looseObject({ name: z.string(), host: z.string(), port: z.number() });
  const Release01Outputs = z.looseObject({
    engine: z.string(),
    hotfixId: z.string(),
    route: z.union([
      z.looseObject({ kind: z.literal("direct"), endpoint: Release01Endpoint }),
      z.looseObject({ kind: z.literal("relay"), relay: Release01Endpoint, engineHost: z.string() }),
    ]),
    fileVersions: z.record(z.string(), z.string()),
    requiredFileVersions: z.record(z.string(), z.string()),
    target: z.looseObject({ packageFile: z.string(), packagePath: z.string(), packageSha256: z.string() }),
    settings: z.looseObject({
      connectTimeoutMs: z.number(),
      stepTimeoutMs: z.number(),
      installRetryDelayMs: z.number(),
    }),
  });
  const fixture = Release01State.parse(
    JSON.parse(readFileSync(join(projectRoot, "test", "fixtures", "state", "release-0.1.0.json"), "utf8")),
  );
  const legacy = fixture.deployment.resources
    .filter((r) => r.type === "pulumi-nodejs:dynamic/mpshotfix:HotfixOnEngine")
    .map((r) => ({ id: r.id ?? "", stored: r.outputs ?? {}, outputs: Release01Outputs.parse(r.outputs) }));

  test("the fixture holds the three engines of release 0.1, without credentials", () => {
    expect(legacy.map((r) => r.id)).toEqual(["MPS01/KB952089", "MPS02/KB952089", "MPS03/KB952089"]);
    for (const r of legacy) expect(secretKeysIn(r.stored)).toEqual([]);
  });

  test.each(legacy.map((r) => ({ ...r, engine: r.outputs.engine })))(
    "$id: read against a simulated engine returns schema version 2 state and inputs",
    async ({ id, stored, outputs, engine }) => {
      const route = outputs.route;
      const relayName = route.kind === "relay" ? route.relay.name : undefined;
      await startFleet(
        [
          route.kind === "direct"
            ? simEngine({ files: outputs.fileVersions }, engine)
            : simEngine({ files: outputs.fileVersions, ssh: false, winrmName: route.engineHost }, engine),
        ],
        relayName === undefined ? [] : [{ name: relayName }],
      );
      fleetConfig = {};
      await configureStack();
      const hop = hostNamed(relayName ?? engine);
      const pointed = { host: hop.address, port: hop.port };
      const state = {
        ...stored,
        route:
          route.kind === "direct"
            ? { ...route, endpoint: { ...route.endpoint, ...pointed } }
            : { ...route, relay: { ...route.relay, ...pointed } },
      };

      const refreshed = await read(id, state);
      expect(refreshed.id).toBe(id);
      expectNoCredentials(refreshed);
      const props = EngineHotfixesState.parse(refreshed.props);
      expect(props.schemaVersion).toBe(stateSchemaVersion);
      expect(observedOf(refreshed.props)).toEqual(truthOf(engine));
      expect(props.required).toEqual({ [outputs.hotfixId]: outputs.requiredFileVersions });
      expect(props.packages).toEqual([
        {
          hotfix: outputs.hotfixId,
          file: outputs.target.packageFile,
          path: outputs.target.packagePath,
          sha256: outputs.target.packageSha256,
        },
      ]);
      // Release 0.1's "trust-unknown" key is this release's explicit opt-out.
      expect(sshHopOf(props.route).trustUnknownHostKey).toBe(true);
      expect(sshHopOf(props.route).hostKey).toBeUndefined();
      expect(props.settings).toMatchObject({
        connectTimeoutSeconds: outputs.settings.connectTimeoutMs / 1000,
        stepTimeoutSeconds: outputs.settings.stepTimeoutMs / 1000,
        installRetryDelaySeconds: outputs.settings.installRetryDelayMs / 1000,
      });
      for (const gone of ["hotfixId", "fileVersions", "requiredFileVersions", "target"]) {
        expect(refreshed.props).not.toHaveProperty(gone);
        expect(refreshed.inputs).not.toHaveProperty(gone);
      }

      // The inputs are of this release too: the observation where the engine falls short of what it was held to.
      const inputs = EngineHotfixesInputs.parse(refreshed.inputs);
      expect(inputs.schemaVersion).toBe(stateSchemaVersion);
      expect(refreshed.inputs).not.toHaveProperty("required");
      const meets = driftReasons(truthOf(engine), props.required ?? {}).length === 0;
      expect(inputs.files).toEqual(meets ? props.required : truthOf(engine).files);
      expect(scriptsOn(engine)).toEqual(["probe"]);
    },
  );
});

describe("the host cannot be reached or refuses us: nothing is touched", () => {
  test("connection refused: the probe fails fast, names engine and step, the rerun converges once the host is up", async () => {
    await startFleet([faulty({ refuseConnections: true })]);
    // A refused host's key was never seen; this stack trusts unknown keys, so the rerun's props are the same.
    const props = await stackFor("MPS01", { trustUnknownHostKey: true });
    const { port } = hostNamed("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: cannot connect to MPS01 (127.0.0.1:${port}): connection refused\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(fleet().connectionCount("MPS01")).toBe(0);
    expect(fleet().log()).toEqual([]);
    await expectRecovery({
      props,
      failure,
      step: "probe",
      rotation: "untouched",
      refreshUnreachable: `cannot connect to MPS01 (127.0.0.1:${port}): connection refused`,
      fix: () => hostComesBack(simEngine()),
    });
  });

  test("TCP accepted, no SSH banner: the run ends within the connect timeout", async () => {
    await startFleet([faulty({ hangAfterConnect: true })]);
    // One connection attempt: a host that takes TCP and never answers is not retried here.
    const props = await stackFor("MPS01", {
      trustUnknownHostKey: true,
      settings: { connectTimeoutSeconds: 1, connectAttempts: 1 },
    });
    const { port } = hostNamed("MPS01");
    const started = Date.now();
    const failure = await failureOf(create(props));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: no SSH handshake from MPS01 (127.0.0.1:${port}) within 1s\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(
      fleet()
        .log()
        .map((r) => r.script),
    ).toEqual(["connect"]);

    const refreshStarted = Date.now();
    await expectFailureReported({
      props,
      failure,
      step: "probe",
      rotation: "untouched",
      refreshUnreachable: `no SSH handshake from MPS01 (127.0.0.1:${port}) within 1s`,
    });
    expect(Date.now() - refreshStarted).toBeLessThan(3000);

    await hostComesBack(simEngine());
    await expectRerunConverges("MPS01", props, undefined);
  });

  test("authentication rejected: the error names the host and the user, never the password", async () => {
    await startFleet([faulty({ rejectAuth: true })]);
    const props = await stackFor("MPS01", { trustUnknownHostKey: true });
    const { port } = hostNamed("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: MPS01 (127.0.0.1:${port}) rejected the credentials of user mps-admin\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    const scripts = fleet()
      .log()
      .map((r) => r.script);
    expect(scripts.filter((s) => s !== "connect" && s !== "auth-rejected")).toEqual([]);
    expect(scripts).toContain("auth-rejected");
    await expectRecovery({
      props,
      failure,
      step: "probe",
      rotation: "untouched",
      refreshUnreachable: `MPS01 (127.0.0.1:${port}) rejected the credentials of user mps-admin`,
      fix: () => hostComesBack(simEngine()),
    });
  });

  test("a host that resets the connection right after refusing the credentials: a clear error, nothing unhandled", async () => {
    await startFleet([faulty({ rejectAuth: true })]);
    const props = await stackFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      /^engine MPS01: step probe failed: MPS01 \(127\.0\.0\.1:\d+\) rejected the credentials of user mps-admin\n/,
    );
    expectNoSecret(failure);
    expect(failure.properties).toBeUndefined();
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
    await startFleet();
    const wrong = "wrong-password-Xy81";
    secrets.push(wrong);
    const props = await stackFor("MPS01", { credentials: credentialsOfFleet(wrong) });
    const { port } = hostNamed("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      /^engine MPS01: step probe failed: MPS01 \(127\.0\.0\.1:\d+\) rejected the credentials of user mps-admin\n/,
    );
    expect(scriptsOn("MPS01").filter((s) => s !== "auth-rejected")).toEqual([]);
    // The secret is the stack's config, not an input: correcting it changes no input.
    await expectRecovery({
      props,
      failure,
      step: "probe",
      rotation: "untouched",
      refreshUnreachable: `MPS01 (127.0.0.1:${port}) rejected the credentials of user mps-admin`,
      fix: () => configureStack(),
    });
  });

  test("a host key other than the pinned one: refused before logging on, the offered key is named", async () => {
    await startFleet();
    const { port, hostKeySha256 } = hostNamed("MPS01");
    const props = await stackFor("MPS01", { hostKey: otherHostKey });
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: refused MPS01 (127.0.0.1:${port}): it offered host key ${hostKeySha256}, the stack pins ${otherHostKey}\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    // Refused before authentication: the simulator saw the connection and nothing else.
    expect(
      fleet()
        .log()
        .map((r) => r.script),
    ).toEqual(["connect"]);
    expect(fleet().host("MPS01").files).toEqual({ [dll]: oldVersion });
    await expectFailureReported({
      props,
      failure,
      step: "probe",
      rotation: "untouched",
      refreshUnreachable: new RegExp(`it offered host key ${hostKeySha256.replace(/[+/]/g, "\\$&")}`),
    });
    expect(
      fleet()
        .log()
        .filter((r) => r.script !== "connect"),
    ).toEqual([]);

    // The stack pins the right key: the way to the host changed, so the diff shows a change.
    const pinned = await stackFor("MPS01");
    expect((await diff("MPS01", props, pinned)).changes).toBe(true);
    await expectRerunConverges("MPS01", pinned, undefined);
  });

  test.each([
    { over: "SSH", engine: "MPS01", hop: "MPS01", relay: undefined },
    { over: "a relay", engine: "MPS05", hop: "RELAY1", relay: "RELAY1" },
  ])("no credential for the hop ($over): a clear error naming $hop, no connection", async ({ engine, hop, relay }) => {
    if (relay === undefined) await startFleet();
    else await startFleet([simEngine({ ssh: false }, engine)], [{ name: relay }]);
    const { [hop]: _missing, ...others } = credentialsOfFleet();
    const props = await stackFor(engine, { ...(relay === undefined ? {} : { relay }), credentials: others });
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine ${engine}: step probe failed: no credentials for ${hop} in the stack's config mps-hotfix:credentials\n  engine ${engine} was not taken out of rotation`,
    );
    expect(fleet().connectionCount()).toBe(0);
    await expectRecovery({
      engine,
      props,
      failure,
      step: "probe",
      rotation: "untouched",
      refreshFails: `engine ${engine}: refresh could not probe the host: no credentials for ${hop} in the stack's config mps-hotfix:credentials`,
      fix: () => configureStack(),
    });
  });
});

describe("the connection is lost in the middle of the runbook", () => {
  const closed = "connection to MPS01 \\(127\\.0\\.0\\.1:\\d+\\) was closed by the host";
  test.each([
    {
      fault: { dropConnectionAfter: "deactivate-engine" as const },
      step: "deactivate-engine" as const,
      reason: closed,
      ran: ["probe", "stage-package", "deactivate-engine"],
    },
    {
      fault: { dropConnectionAfter: "shutdown-complus" as const },
      step: "shutdown-complus" as const,
      reason: closed,
      ran: ["probe", "stage-package", "deactivate-engine", "shutdown-complus"],
    },
  ])("$step: the engine is put back into rotation over a new connection", async ({ fault, step, reason, ran }) => {
    await startFleet([faulty(fault)]);
    const props = await stackFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(new RegExp(`^engine MPS01: step ${step} failed: ${reason}\\n`));
    expect(scriptsOn("MPS01")).toEqual([...ran, ...restoreAndProbe]);
    // The restore ran on a fresh connection: one for the runbook, one for the restore, one for the probe after it.
    const records = recordsOn("MPS01");
    const failedAt = records.findIndex((r) => r.script === step);
    expect(records[failedAt + 1]?.script).toBe("connect");
    expect(fleet().connectionCount("MPS01")).toBe(3);
    expect(fleet().host("MPS01").files).toEqual({ [dll]: oldVersion });
    expect(fleet().host("MPS01").installAttempts).toBe(0);
    // The partial state records what the probe after the failure saw, and keeps the provider.
    await expectRecovery({ props, failure, step, rotation: "restored" });
  });

  test("install-package: Windows Installer finishes the install on its own; the engine is put back only once it is done, and the error says what it found", async () => {
    await startFleet([faulty({ dropConnectionDuring: "install-package" })]);
    const props = await stackFor("MPS01");
    const failure = await failureOf(create(props));
    const log = `C:\\\\Windows\\\\Temp\\\\mps-hotfix\\\\${hotfix}-\\d{8}-\\d{6}-attempt1\\.log`;
    expect(failure.message).toMatch(
      new RegExp(
        `^engine MPS01: step install-package failed: ${hotfix}: the session was lost during install-package \\(${closed}\\); Windows Installer finished on its own: its log ${log} says msiexec returned 0 \\(installed\\); ${dll.replace(".", "\\.")} is at ${requiredVersion.replace(/\./g, "\\.")} \\(${requiredVersion.replace(/\./g, "\\.")} or later required\\)\\n`,
      ),
    );
    expect(scriptsOn("MPS01")).toEqual([
      ...takeDownScripts,
      "install-package",
      "install-package",
      "installer-status",
      "probe",
      ...restoreAndProbe,
    ]);
    expect(fleet().host("MPS01").installAttempts).toBe(1);
    await expectRecovery({
      props,
      failure,
      step: "install-package",
      rotation: "restored",
      endedCompliant: true,
      rerunScripts: ["probe"],
    });
  });
});

describe("the probe after a failed maintenance fails too: the state holds what was last seen, never the requirement", () => {
  test.each([
    { run: "a first run", known: false, recordedVersion: "unknown" },
    { run: "a rerun", known: true, recordedVersion: oldVersion },
  ])(
    "$run records $recordedVersion, the engine pessimistically out of rotation",
    async ({ known, recordedVersion }) => {
      await startFleet([faulty({ installExitCodes: [1603] })]);
      const props = await stackFor("MPS01");
      const before: unknown = known ? (await read("MPS01", props)).props : undefined;
      const from = fleet().log().length;
      // Once the engine is back in rotation, the host starts answering the probe with garbage.
      once("MPS01", "activate-engine", () => fleet().alter("MPS01", { faults: { probeAnswer: "garbage" } }));
      const failure = await failureOf(before === undefined ? create(props) : update("MPS01", before, props));
      expect(failure.message).toMatch(
        new RegExp(`^engine MPS01: step install-package failed: ${hotfix}: msiexec exit code 1603 `),
      );
      expect(scriptsOn("MPS01", from)).toEqual([
        ...takeDownScripts,
        "install-package",
        "read-install-log",
        ...restoreAndProbe,
      ]);
      const recorded: Observed = {
        files: { [hotfix]: { [dll]: recordedVersion } },
        engineState: "deactivated",
        comPlusState: "stopped",
        restartPending: false,
      };
      expect(observedOf(failure.properties).files[hotfix]?.[dll]).not.toBe(requiredVersion);
      await expectRecovery({
        props,
        failure,
        step: "install-package",
        rotation: "restored",
        recorded,
        refreshFails: /^engine MPS01: refresh could not probe the host: unexpected answer to probe: /,
      });
    },
  );
});

describe("a host that stops answering a script", () => {
  test("hangs on shutdown-complus: bounded by the shutdown step's own timeout, then restored by reconnecting", async () => {
    await startFleet([faulty({ hangOnScript: "shutdown-complus" })]);
    // shutdown-complus waits for the COM+ application itself, so its bound is the larger of the step
    // timeout and complusShutdownTimeoutSeconds + 30 s: 31 s with the smallest shutdown timeout.
    const props = await stackFor("MPS01", { settings: { stepTimeoutSeconds: 1, complusShutdownTimeoutSeconds: 1 } });
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
    expect(recordsOn("MPS01").map((r) => r.script)).toEqual([
      "connect",
      ...takeDownScripts,
      "connect",
      "start-complus",
      "activate-engine",
      "connect",
      "probe",
    ]);
    await expectRecovery({ props, failure, step: "shutdown-complus", rotation: "restored" });
  }, 60000);

  test("hangs on install-package: bounded by stepTimeoutSeconds; Windows Installer never started it, so the engine is restored", async () => {
    await startFleet([faulty({ hangOnScript: "install-package" })]);
    const props = await stackFor("MPS01", { settings: { stepTimeoutSeconds: 1 } });
    const { port } = hostNamed("MPS01");
    const started = Date.now();
    const failure = await failureOf(create(props));
    expect(Date.now() - started).toBeLessThan(5000);
    const log = fleet()
      .log()
      .find((r) => r.script === "install-package")!;
    expect(log.detail).toBe("fault hangOnScript: accepted and never answered");
    expect(failure.message).toMatch(
      new RegExp(
        `^engine MPS01: step install-package failed: ${hotfix}: the session was lost during install-package \\(MPS01 \\(127\\.0\\.0\\.1:${port}\\) did not answer within 1s\\); Windows Installer finished on its own: there is no install log at .*attempt1\\.log: the install never started; ${dll.replace(".", "\\.")} is at ${oldVersion.replace(/\./g, "\\.")} .*\\n  engine MPS01 is back in rotation \\(COM\\+ application started, engine activated\\)$`,
      ),
    );
    expect(scriptsOn("MPS01")).toEqual([
      ...takeDownScripts,
      "install-package",
      "installer-status",
      "probe",
      ...restoreAndProbe,
    ]);
    expect(fleet().host("MPS01").files).toEqual({ [dll]: oldVersion });
    await expectRecovery({ props, failure, step: "install-package", rotation: "restored" });
  });
});

describe("msiexec exit codes", () => {
  const installLog = (attempt: number): string =>
    `install log C:\\\\Windows\\\\Temp\\\\mps-hotfix\\\\${hotfix}-\\d{8}-\\d{6}-attempt${attempt}\\.log`;

  test("1603: restored, the error names the hotfix, the exit code and the install log with its last lines", async () => {
    await startFleet([faulty({ installExitCodes: [1603] })]);
    const props = await stackFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      new RegExp(
        `^engine MPS01: step install-package failed: ${hotfix}: msiexec exit code 1603 \\(fatal error during installation\\); ${installLog(1)}\\n  last lines of the install log:\\n`,
      ),
    );
    expect(failure.message).toContain("Installation failed with error 1603.");
    expect(scriptsOn("MPS01")).toEqual([...takeDownScripts, "install-package", "read-install-log", ...restoreAndProbe]);
    // The forced code is used up: the next install behaves normally.
    await expectRecovery({ props, failure, step: "install-package", rotation: "restored", fix: () => undefined });
  });

  test("1618 twice, then success: retried with doubling back-off, three attempts in the step log", async () => {
    await startFleet([faulty({ installExitCodes: [1618, 1618, 0] })]);
    const props = await stackFor("MPS01", { settings: { installAttempts: 4, installRetryDelaySeconds: 0.1 } });
    const started = Date.now();
    const result = await create(props);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(result.id).toBe("MPS01");
    expectNoCredentials(result.outs);
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
      `[MPS01 1 of 1] ${hotfix} install-package: msiexec exit code 1618 (another installation is already in progress); attempt 2 of 4 in 0.1s`,
      `[MPS01 1 of 1] ${hotfix} install-package: msiexec exit code 1618 (another installation is already in progress); attempt 3 of 4 in 0.2s`,
    ]);
    // Each attempt logs to its own file.
    expect(new Set(fleet().host("MPS01").installLogs).size).toBe(3);
    expectInRotation("MPS01");
    await expectRefreshShowsTruth("MPS01", result.outs);
  });

  test("1618 on every attempt: a clear failure after installAttempts, restored", async () => {
    await startFleet([faulty({ installExitCodes: [1618, 1618, 1618] })]);
    const props = await stackFor("MPS01", { settings: { installAttempts: 3, installRetryDelaySeconds: 0.02 } });
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      new RegExp(
        `^engine MPS01: step install-package failed: ${hotfix}: msiexec exit code 1618 \\(another installation is already in progress\\) after 3 attempts; ${installLog(3)}`,
      ),
    );
    expect(failure.message).toContain("Another installation is already in progress.");
    expect(recordsOn("MPS01").filter((r) => r.script === "install-package")).toHaveLength(3);
    expect(fleet().host("MPS01").installAttempts).toBe(3);
    expect(fleet().host("MPS01").files).toEqual({ [dll]: oldVersion });
    await expectRecovery({ props, failure, step: "install-package", rotation: "restored", fix: () => undefined });
  });

  test("3010: COM+ started again before the install; restart pending is recorded and blocks the rerun until a restart", async () => {
    // The simulator answers 3010 only when a running COM+ application holds the DLL at install time.
    // The runbook stops it first, so the application is started on demand (as a COM+ server
    // application is when a request arrives) between shutdown-complus and install-package.
    await startFleet();
    once("MPS01", "shutdown-complus", () => fleet().alter("MPS01", { complus: "running" }));
    const props = await stackFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      new RegExp(
        `^engine MPS01: step install-package failed: ${hotfix}: msiexec exit code 3010 \\(installed; a restart is required to complete it\\); the engine is not compliant until the host restarts; ${installLog(1)}`,
      ),
    );
    const host = fleet().host("MPS01");
    expect(host.restartPending).toBe(true);
    expect(host.pendingFiles).toEqual({ [dll]: requiredVersion });
    expect(host.files).toEqual({ [dll]: oldVersion });
    await expectFailureReported({
      props,
      failure,
      step: "install-package",
      rotation: "restored",
      recorded: { files: { [hotfix]: { [dll]: oldVersion } }, ...inRotation, restartPending: true },
    });

    // Before the restart the rerun refuses at the probe and touches nothing.
    const before = fleet().log().length;
    const blocked = await failureOf(update("MPS01", failure.properties, props));
    expect(blocked.message).toBe(
      `engine MPS01: step probe failed: a restart is pending for ${hotfix}: PendingFileRenameOperations holds ${heldCopy} -> ${dllPath} (an earlier install returned 3010 or 1641); restart the host in a change window, then run up again\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(blocked.properties).toBeUndefined();
    expect(scriptsOn("MPS01", before)).toEqual(["probe"]);

    // After the restart the replaced file is in place: the refresh shows it and nothing is left to do.
    fleet().restartHost("MPS01");
    const refreshed = await expectRefreshShowsTruth("MPS01", failure.properties);
    expect(observedOf(refreshed.props)).toEqual(patchedInRotation);
    expect((await diff("MPS01", refreshed.props, props)).changes).toBe(false);
    await expectRerunConverges("MPS01", props, refreshed.props, ["probe"]);
  });

  test("leaveFailedEngineOut with 1603: the engine stays deactivated and the error says so loudly", async () => {
    await startFleet([faulty({ installExitCodes: [1603] })]);
    const props = await stackFor("MPS01", { settings: { leaveFailedEngineOut: true } });
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      new RegExp(`^engine MPS01: step install-package failed: ${hotfix}: msiexec exit code 1603 `),
    );
    expect(failure.message).toContain(
      "ENGINE MPS01 IS LEFT OUT OF ROTATION, as the stack asks (rollout.leaveFailedEngineOut): it stays deactivated, its COM+ application possibly stopped, until you act",
    );
    expect(scriptsOn("MPS01")).toEqual([...takeDownScripts, "install-package", "read-install-log", "probe"]);
    await expectRecovery({
      props,
      failure,
      step: "install-package",
      rotation: "left-out-by-request",
      recorded: {
        files: { [hotfix]: { [dll]: oldVersion } },
        engineState: "deactivated",
        comPlusState: "stopped",
        restartPending: false,
      },
      fix: () => undefined,
    });
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
    await startFleet([faulty({ probeAnswer })]);
    const props = await stackFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine MPS01: step probe failed: ${reason}\n  engine MPS01 was not taken out of rotation`,
    );
    expect(scriptsOn("MPS01")).toEqual(["probe"]);
    await expectFailureReported({
      props,
      failure,
      step: "probe",
      rotation: "untouched",
      refreshFails: `engine MPS01: refresh could not probe the host: ${reason}`,
    });
    expect(scriptsOn("MPS01")).toEqual(["probe", "probe"]);
    fleet().alter("MPS01", { faults: {} });
    await expectRefreshShowsTruth("MPS01", props);
    await expectRerunConverges("MPS01", props, undefined);
  });

  test("the staged package's SHA-256 differs: refused before deactivation, nothing after stage-package", async () => {
    await startFleet([faulty({ corruptStagedPackage: true })]);
    const props = await stackFor("MPS01");
    const failure = await failureOf(create(props));
    const staged = fleet().host("MPS01").stagedPackages;
    expect(staged).toHaveLength(1);
    expect(staged[0]?.sha256).not.toBe(packageSha256);
    expect(failure.message).toBe(
      `engine MPS01: step stage-package failed: the ${hotfix} package staged at C:\\Windows\\Temp\\mps-hotfix\\${kb952089.packageFile} has SHA-256 ${staged[0]?.sha256}, the stack pins ${packageSha256}; refusing to install it\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(scriptsOn("MPS01")).toEqual(["probe", "stage-package"]);
    expect(fleet().host("MPS01").installAttempts).toBe(0);
    await expectRecovery({ props, failure, step: "stage-package", rotation: "untouched" });
  });
});

describe("an engine behind a relay", () => {
  test("the relay is up, the engine is not reachable over WinRM: the error names the relay and the engine", async () => {
    await startFleet([simEngine({ ssh: false, faults: { winrmUnreachable: true } }, "MPS05")], [{ name: "RELAY1" }]);
    const props = await stackFor("MPS05", { relay: "RELAY1" });
    const failure = await failureOf(create(props));
    expect(failure.message).toMatch(
      /^engine MPS05: step probe failed: relay RELAY1 could not reach engine MPS05 \(MPS05\) over WinRM: Connecting to remote server MPS05 failed .*WinRM cannot complete the operation/,
    );
    expect(
      fleet()
        .log()
        .filter((r) => r.script !== "connect")
        .map((r) => [r.host, r.via, r.script]),
    ).toEqual([["MPS05", "RELAY1", "probe"]]);
    await expectRecovery({
      props,
      failure,
      step: "probe",
      rotation: "untouched",
      refreshUnreachable: /^relay RELAY1 could not reach engine MPS05/,
    });
    expect(
      fleet()
        .log()
        .filter((r) => r.host === "MPS05")
        .every((r) => r.via === "RELAY1"),
    ).toBe(true);
  });
});

describe("a package that cannot meet the requirement, the pre-flight bypassed", () => {
  test("the simulated msiexec installs what its File table says; verify-files fails on the host and the engine is put back", async () => {
    await startFleet();
    const belowPath = join(projectRoot, "test/fixtures/packages/KB952089-below.msi");
    const below = readSimulatedPackage(readFileSync(belowPath))!.installs[dll]!;
    const props = await stackFor("MPS01");
    const bypassed: Props = {
      ...props,
      packages: [
        {
          ...props.packages[0]!,
          path: belowPath,
          sha256: createHash("sha256").update(readFileSync(belowPath)).digest("hex"),
        },
      ],
    };
    const failure = await failureOf(create(bypassed));
    expect(failure.message).toBe(
      `engine MPS01: step verify-files failed: msiexec reported success but ${hotfix}: ${dll}: ${below} is older than ${requiredVersion}\n` +
        "  engine MPS01 is back in rotation (COM+ application started, engine activated)",
    );
    expect(truthOf("MPS01")).toEqual({ files: { [hotfix]: { [dll]: below } }, ...inRotation });
    expect(observedOf(failure.properties)).toEqual(truthOf("MPS01"));
    expectNoSecret(failure);
  });
});

// ---------------------------------------------------------------------------------------------
// Windows as it is (issue 12): each rule of the simulator, and the product handling it

describe("the default shell of OpenSSH for Windows is cmd.exe", () => {
  test("an engine behind a relay with cmd.exe as its shell is patched: every command line is the short bootstrap", async () => {
    await startFleet([simEngine({ ssh: false }, "MPS05")], [{ name: "RELAY1", defaultShell: "cmd" }]);
    const props = await stackFor("MPS05", { relay: "RELAY1" });
    const result = await create(props);
    expect(observedOf(result.outs)).toEqual(patchedInRotation);
    expect(scriptsOn("MPS05")).toEqual(kbRunbookScripts);
    expect(
      fleet()
        .log()
        .filter((r) => r.script === "rejected-command"),
    ).toEqual([]);
  });
});

describe("PendingFileRenameOperations names other software's files", () => {
  const antivirus = { from: "C:\\Program Files\\Av\\engine.new", to: "C:\\Program Files\\Av\\engine.dll" };

  test("an engine with unrelated pending renames is patched; they are a note, never drift", async () => {
    await startFleet([simEngine({ pendingRenames: [antivirus, { from: "C:\\Windows\\Temp\\setup.tmp" }] })]);
    const props = await stackFor("MPS01");
    const result = await create(props);
    expect(observedOf(result.outs)).toEqual(patchedInRotation);
    expect(scriptsOn("MPS01")).toEqual(kbRunbookScripts);
    expect(said).toContain(
      `[MPS01 1 of 1] note: 2 pending file rename(s) for the next restart name no file of this engine's hotfixes; they do not block it: ${antivirus.from} -> ${antivirus.to}; delete C:\\Windows\\Temp\\setup.tmp`,
    );
    // The refresh reads them too, and still shows nothing to do.
    const refreshed = await expectRefreshShowsTruth("MPS01", result.outs);
    expect(observedOf(refreshed.props).restartPending).toBe(false);
    expect((await diff("MPS01", refreshed.props, props)).changes).toBe(false);
  });
});

describe("the relay's second hop", () => {
  test("a relay that logs on with a key cannot reach its engines (access denied); the stack refuses such a key before anything runs", async () => {
    const keys = sshUtils.generateKeyPairSync("ed25519");
    secrets.push(keys.private);
    await startFleet([simEngine({ ssh: false }, "MPS05")], [{ name: "RELAY1" }], keys.public);
    const keyed = { ...credentialsOfFleet(), RELAY1: { privateKey: keys.private } };
    // The handlers get the key (the plan, as the program checks it, is refused below).
    const props = await stackFor("MPS05", { relay: "RELAY1", credentials: keyed });
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      "engine MPS05: step probe failed: relay RELAY1 could not reach engine MPS05 (MPS05) over WinRM: Connecting to remote server MPS05 failed with the following error message : Access is denied. For more information, see the about_Remote_Troubleshooting Help topic.\n" +
        "  engine MPS05 was not taken out of rotation",
    );
    expect(fleet().host("MPS05").engine).toBe("active");
    expect(() =>
      planFleet({
        stack: "faults",
        fleet: fleetConfig,
        credentials: keyed,
        credentialsAreSecret: true,
        baseDir: projectRoot,
      }),
    ).toThrow(
      "relays[0]: credentials.RELAY1.privateKey: relay RELAY1 runs each step on its engines with Invoke-Command (WinRM), a second hop that a key logon carries no credentials for",
    );
    // With the account's password the relay reaches the engine, and the rerun converges.
    await configureStack();
    await expectRerunConverges("MPS05", props, undefined);
  });

  test("an error raised on the engine is told apart from a WinRM failure: the engine was reached, nothing is recorded as unreachable", async () => {
    await startFleet(
      [simEngine({ ssh: false, faults: { remoteScriptError: "probe" } }, "MPS05")],
      [{ name: "RELAY1" }],
    );
    const props = await stackFor("MPS05", { relay: "RELAY1" });
    const failure = await failureOf(create(props));
    const raised =
      "relay RELAY1 reached engine MPS05 (MPS05) over WinRM, but probe failed with an error: The WSMan provider host process did not return a proper response. A provider in the host process may have behaved improperly.";
    expect(failure.message).toBe(
      `engine MPS05: step probe failed: ${raised}\n  engine MPS05 was not taken out of rotation`,
    );
    const refresh = await failureOf(read("MPS05", props));
    expect(refresh.message).toBe(`engine MPS05: refresh could not probe the host: ${raised}`);
    fleet().alter("MPS05", { faults: {} });
    await expectRerunConverges("MPS05", props, undefined);
  });
});

describe("an install outlives the session that started it", () => {
  test("a slow install past the step timeout: the product waits for Windows Installer, then reads what it did, then restores", async () => {
    await startFleet([simEngine()]);
    sim = await restartWithDelays({ "install-package": 2500 });
    const props = await stackFor("MPS01", {
      settings: { stepTimeoutSeconds: 1, installRetryDelaySeconds: 0.3, installWaitSeconds: 30 },
    });
    const failure = await failureOf(create(props));
    expect(failure.message).toContain(
      `${hotfix}: the session was lost during install-package (MPS01 (127.0.0.1:${hostNamed("MPS01").port}) did not answer within 1s); Windows Installer finished on its own: its log `,
    );
    expect(failure.message).toContain(`says msiexec returned 0 (installed); ${dll} is at ${requiredVersion}`);
    const scripts = scriptsOn("MPS01");
    // Asked while the install ran, and only then the engine was put back.
    expect(scripts.filter((s) => s === "installer-status").length).toBeGreaterThanOrEqual(2);
    const restored = scripts.indexOf("start-complus");
    const finished = fleet()
      .log()
      .findIndex((r) => r.script === "install-package" && r.exitCode === 0);
    expect(finished).toBeGreaterThanOrEqual(0);
    expect(
      fleet()
        .log()
        .findIndex((r) => r.script === "start-complus"),
    ).toBeGreaterThan(finished);
    expect(restored).toBeGreaterThan(scripts.lastIndexOf("installer-status"));
    expect(said.some((line) => /install-package: failed/.test(line))).toBe(true);
    expect(
      said.some((line) => /installer-status: Windows Installer is still installing; asking again in 0\.3s/.test(line)),
    ).toBe(true);
    await expectRecovery({
      props,
      failure,
      step: "install-package",
      rotation: "restored",
      endedCompliant: true,
      rerunScripts: ["probe"],
    });
  }, 30000);

  test("an installer still running when installWaitSeconds runs out: the engine stays out of rotation, the error says why", async () => {
    await startFleet([simEngine()]);
    sim = await restartWithDelays({ "install-package": 4000 });
    const props = await stackFor("MPS01", {
      settings: { stepTimeoutSeconds: 1, installRetryDelaySeconds: 0.5, installWaitSeconds: 1 },
    });
    const failure = await failureOf(create(props));
    expect(failure.message).toContain(
      `Windows Installer is still installing after 1s of waiting (rollout.installWaitSeconds), so the engine was not put back while Windows Installer may be replacing ${dll}`,
    );
    expect(failure.message).toContain(
      "ENGINE MPS01 IS OUT OF ROTATION: Windows Installer may still be installing on it, so it was not put back",
    );
    expect(scriptsOn("MPS01")).not.toContain("start-complus");
    expect(fleet().host("MPS01")).toMatchObject({ engine: "deactivated", complus: "stopped", installing: true });
    // Once the installer is done, the rerun finds the file in place and puts the engine back.
    while (fleet().host("MPS01").installing) await pause(100);
    const result = await update("MPS01", failure.properties, props);
    expect(observedOf(result.outs)).toEqual(patchedInRotation);
    expectInRotation("MPS01");
  }, 30000);
});

describe("a French server whose console keeps its OEM code page", () => {
  test("the error message arrives with its accents: the product reads the code page the host declares", async () => {
    await startFleet([
      simEngine({
        uiCulture: "fr-FR",
        oemCodePage: 850,
        faults: { consoleEncodingLocked: true, stagingAccessDenied: true },
      }),
    ]);
    const props = await stackFor("MPS01");
    const failure = await failureOf(create(props));
    expect(failure.message).toBe(
      `engine MPS01: step stage-package failed: exit code 1: L'accès au chemin d'accès 'C:\\Windows\\Temp\\mps-hotfix\\${kb952089.packageFile}' est refusé.\n` +
        "  engine MPS01 was not taken out of rotation",
    );
    expect(scriptsOn("MPS01")).toEqual(["probe", "stage-package"]);
    // The console's code page does not stop the rest of the fleet's answers from being read either.
    fleet().alter("MPS01", { faults: { consoleEncodingLocked: true } });
    await expectRerunConverges("MPS01", props, undefined);
  });
});
