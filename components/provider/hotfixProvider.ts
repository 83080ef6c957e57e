import { readFileSync } from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { driftReasons } from "../domain/drift";
import { notResponding, notRespondingReason, type ObservedState } from "../domain/observation";
import type { EngineTarget, MaintenanceSettings } from "../domain/target";
import { EngineConnection } from "../host/engineConnection";
import { TransportError } from "../host/sshSession";
import type { StepEvent } from "../runbook/steps";
import { Runbook } from "../runbook/runbook";
import { RunbookError } from "../runbook/runbookError";
import { rotationNotice } from "../runbook/operatorMessages";
import { progressLine } from "./progress";
import { programRan, staleConfigProblem } from "./programRun";
import { checkInputs, parseInputs } from "./inputCheck";
import { stateSchemaVersion, targetOf, type EngineHotfixesInputs, type EngineHotfixesState } from "./resourceState";
import { leaseHolderOfThisRun } from "./leaseHolder";
import { RolloutTracker } from "./rolloutTracker";
import { StackSettings } from "./stackSettings";
import { readStoredState, requirementOfState } from "./stateMigration";

/**
 * The handlers of the EngineHotfixes dynamic resource. They run in the SDK's dynamic-provider
 * host, the process the engine starts for `pulumi-nodejs` resources, which loads this module by
 * package name (serializedProviders.ts).
 */

let stack = StackSettings.empty();
let configuredWith: string | undefined;

/**
 * The stack's config, as the engine passes it to dynamic providers: credentials live there only.
 * The host configures each distinct `__provider` text once (an engine still recorded under an
 * earlier release's text is another one): the rollout's failures so far are kept unless the
 * config itself changed.
 */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  const read: Record<string, string | undefined> = {};
  stack = StackSettings.from((key) => (read[key] = req.config.get(key)));
  const key = JSON.stringify(read);
  if (key !== configuredWith) {
    rollout = new RolloutTracker(() => stack.limits);
    leaseHolder = leaseHolderOfThisRun();
  }
  configuredWith = key;
  return Promise.resolve();
}

/** This run, as the maintenance lease on each engine names it: one per host, and a host serves one operation. */
let leaseHolder = leaseHolderOfThisRun();

/** The run as a whole (failures so far, the change window): one per host, and a host serves one operation. */
let rollout = new RolloutTracker(() => stack.limits);

function connectionOf(target: EngineTarget, settings: MaintenanceSettings): EngineConnection {
  const position = stack.positionOf(target.engine);
  const where = position === undefined ? target.engine : `${target.engine} ${position}`;
  return new EngineConnection(target.engine, target.route, (hop) => stack.credentialOf(hop), {
    connectTimeoutMs: settings.connectTimeoutSeconds * 1000,
    connectAttempts: settings.connectAttempts,
    connectRetryDelayMs: settings.connectRetryDelaySeconds * 1000,
    onRetry: (message) => say(`[${where}] ${message}`),
  });
}

/** The transport failure behind an error: the engine could not be reached (rather than answered wrongly). */
function unreachableCause(error: unknown): TransportError | undefined {
  const cause = error instanceof TransportError ? error : (error as { cause?: unknown } | undefined)?.cause;
  return cause instanceof TransportError ? cause : undefined;
}

/**
 * The handlers' lines go to stderr, which the engine streams into its own output as the host's
 * (a provider's stderr is shown as diagnostics; `mps-hotfix report` prints them on stderr).
 */
const say = (line: string): void => console.error(line);

/**
 * Stops each runbook under way after its current step: it starts no further step that takes the
 * engine down and puts the engine back into rotation. Returns the engines whose runbook is under way.
 */
let interrupted = false;
const runbooksUnderWay = new Set<string>();
export function interruptRunbooks(): readonly string[] {
  if (runbooksUnderWay.size > 0 && !interrupted) {
    say("interrupt received: finishing the current step, then putting the engine back into rotation");
    interrupted = true;
  }
  return [...runbooksUnderWay];
}

/**
 * SIGINT comes from the engine, not from a terminal: the engine starts each plugin in a process
 * group of its own (sdk/go/common/resource/plugin/plugin.go, RegisterProcessGroup), so the
 * operator's Ctrl-C reaches only the CLI. On the first, the engine cancels: it lets the steps
 * under way, and so each runbook, finish. On the second it terminates and closes its plugins:
 * SIGINT, then SIGKILL when the plugin is still there 5 s later (plugin.go, `kill`). Exiting
 * while a runbook runs could leave an engine deactivated, so then the host stays up
 * (interruptRunbooks). With no runbook running, SIGINT ends the host as usual.
 */
export function onInterrupt(): void {
  if (interruptRunbooks().length === 0) process.exit(0);
}
process.on("SIGINT", onInterrupt);

/**
 * The Pulumi CLI that started this host. When it is gone (killed, its terminal closed), nothing
 * will stop this host nor ask for the runbooks' results, and the engines under way would be left
 * to whatever comes next: the host stops each runbook after its current step, which puts the engine
 * back into rotation (and so lifts its lease), then exits. An orphan is handed to another parent
 * (init, or a subreaper), so its `process.ppid` changes (https://nodejs.org/api/process.html#processppid).
 */
const cli = process.ppid;
const orphanWatch = setInterval(() => {
  if (process.ppid === cli) return;
  clearInterval(orphanWatch);
  // No one reads this host's output any more: a write to the closed pipe must not end it.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  interruptRunbooks();
  const exitOnceBack = setInterval(() => {
    if (runbooksUnderWay.size === 0) process.exit(0);
  }, 200);
  exitOnceBack.unref();
}, 1000);
// The watch alone keeps no process alive (the handlers are loaded by tests too).
orphanWatch.unref();

/** One line per step as it ends, while the run goes. */
function reportStep(engine: string): (event: StepEvent) => void {
  const position = stack.positionOf(engine);
  return (event) => {
    if (event.status !== "started") say(progressLine(event, position));
    // A step that succeeded may carry a note (pending renames of other software, say).
    if (event.status === "succeeded" && event.detail !== undefined)
      say(`[${position === undefined ? engine : `${engine} ${position}`}] ${event.detail}`);
  };
}

function runbookFor(
  target: EngineTarget,
  settings: EngineHotfixesInputs["settings"],
  connection: EngineConnection,
  progress: boolean,
  onStepDone?: (event: StepEvent) => void,
): Runbook {
  const report = progress ? reportStep(target.engine) : undefined;
  const onStep =
    report === undefined && onStepDone === undefined
      ? undefined
      : (event: StepEvent): void => {
          report?.(event);
          if (event.status === "succeeded") onStepDone?.(event);
        };
  return new Runbook(target, {
    runner: connection,
    settings,
    packageBase64: (pkg) => readFileSync(pkg.path).toString("base64"),
    interrupted: () => interrupted,
    lease: leaseHolder,
    ...(onStep !== undefined ? { onStep } : {}),
  });
}

/** What a maintenance changed on its engine, from the steps that completed: see EngineHotfixesState.lastMaintenance. */
function maintenanceRecorder(): {
  readonly onStepDone: (event: StepEvent) => void;
  readonly done: () => NonNullable<EngineHotfixesState["lastMaintenance"]>;
} {
  const installed: string[] = [];
  let restoredRotation = false;
  return {
    onStepDone: (event) => {
      if (event.step === "install-package" && event.hotfixId !== undefined) installed.push(event.hotfixId);
      if (event.step === "activate-engine" || event.step === "start-complus") restoredRotation = true;
    },
    done: () => ({ installed, restoredRotation }),
  };
}

/** The state a maintenance records: the target, what the probe observed, the requirement it was held to. */
function stateAfter(inputs: EngineHotfixesInputs, observed: ObservedState): EngineHotfixesState {
  const { adoptOnly: _adoptOnly, files: required, ...rest } = inputs;
  return { ...rest, ...observed, required, lastRun: null };
}

/**
 * A failed create or update still records where the engine stands, so the next preview shows it.
 * The SDK's dynamic-provider host answers an error that carries an `id` as "created, but failed
 * to initialize", with its `properties` (cmd/dynamic-provider, grpcResponseFromError),
 * and the engine records those properties as the resource's state. They are stored as they are,
 * so they must carry the serialized provider (`__provider`) that later reads are run with.
 */
class PartialStateError extends Error {
  readonly properties: Record<string, unknown>;

  constructor(
    message: string,
    readonly id: string,
    state: EngineHotfixesState,
    serializedProvider: unknown,
  ) {
    super(message);
    this.properties = { ...state, __provider: serializedProvider };
  }
}

function serializedProviderOf(props: unknown): unknown {
  return (props as { __provider?: unknown } | undefined)?.__provider;
}

/** What the engine had before the failed maintenance, or "unknown" for each file: never the requirement. */
function lastKnown(inputs: EngineHotfixesInputs, before: EngineHotfixesState | undefined): ObservedState["files"] {
  return Object.fromEntries(
    Object.entries(inputs.files).map(([id, files]) => [
      id,
      Object.fromEntries(Object.keys(files).map((name) => [name, before?.files[id]?.[name] ?? "unknown"])),
    ]),
  );
}

async function probeAfterFailure(
  inputs: EngineHotfixesInputs,
  before: EngineHotfixesState | undefined,
): Promise<EngineHotfixesState> {
  const connection = connectionOf(inputs, { ...inputs.settings, connectAttempts: 1 });
  try {
    return stateAfter(inputs, await runbookFor(inputs, inputs.settings, connection, false).probe());
  } catch {
    return stateAfter(inputs, {
      files: lastKnown(inputs, before),
      engineState: "deactivated",
      comPlusState: "stopped",
      restartPending: before?.restartPending ?? false,
    });
  } finally {
    connection.close();
  }
}

/** Registers what an engine has (`adopt`); an engine that cannot be reached is registered as such. */
async function register(inputs: EngineHotfixesInputs): Promise<EngineHotfixesState> {
  const connection = connectionOf(inputs, inputs.settings);
  try {
    return stateAfter(inputs, await runbookFor(targetOf(inputs), inputs.settings, connection, true).probe());
  } catch (error) {
    const cause = unreachableCause(error);
    if (cause === undefined) throw error;
    say(`[${inputs.engine}] UNREACHABLE: ${cause.message}; registered as never read`);
    const never: ObservedState = {
      files: lastKnown(inputs, undefined),
      engineState: "unknown",
      comPlusState: "unknown",
      restartPending: false,
    };
    return { ...stateAfter(inputs, never), unreachable: cause.message };
  } finally {
    connection.close();
  }
}

async function converge(
  id: string,
  inputs: EngineHotfixesInputs,
  before: EngineHotfixesState | undefined,
  serializedProvider: unknown,
): Promise<EngineHotfixesState> {
  if (inputs.adoptOnly === true) return register(inputs);
  const refusal = rollout.refusal();
  if (refusal !== undefined) {
    say(`[${inputs.engine}] SKIPPED: ${refusal}`);
    if (before === undefined) throw new Error(`engine ${inputs.engine}: ${refusal}`);
    return { ...before, lastRun: { outcome: "skipped", reason: refusal } };
  }
  const short = rollout.claim(inputs.engine, stack.poolOf(inputs.engine));
  if (short !== undefined) {
    say(`[${inputs.engine}] SKIPPED: ${short}`);
    if (before === undefined) throw new Error(`engine ${inputs.engine}: ${short}`);
    return { ...before, lastRun: { outcome: "skipped", reason: short } };
  }
  let inRotationAfter: boolean | undefined;
  const connection = connectionOf(inputs, inputs.settings);
  runbooksUnderWay.add(inputs.engine);
  const maintenance = maintenanceRecorder();
  try {
    const runbook = runbookFor(targetOf(inputs), inputs.settings, connection, true, maintenance.onStepDone);
    const observed = await runbook.converge();
    inRotationAfter = true;
    return { ...stateAfter(inputs, observed), lastMaintenance: maintenance.done() };
  } catch (error) {
    connection.close();
    if (!(error instanceof RunbookError)) throw error;
    inRotationAfter = error.rotation === "restored" ? true : error.rotation === "untouched" ? undefined : false;
    const goesOn = rollout.recordFailure(inputs.engine);
    const halts = !goesOn && stack.limits.maxFailures > 0;
    const message = `${error.message}\n  ${rotationNotice(error)}${halts ? `\n  ${rollout.haltNotice()}` : ""}`;
    say(`[${inputs.engine}] FAILED: ${message}`);
    const untouched = error.rotation === "untouched";
    const recorded = untouched ? before : await probeAfterFailure(inputs, before);
    // Within rollout.maxFailures the engine is recorded as failed and the rollout goes on past it;
    // the fleet's RolloutResult still fails the run.
    if (goesOn && recorded !== undefined) return { ...recorded, lastRun: { outcome: "failed", reason: message } };
    if (untouched || recorded === undefined) throw new Error(message);
    throw new PartialStateError(message, id, recorded, serializedProvider);
  } finally {
    rollout.ended(inputs.engine, inRotationAfter);
    runbooksUnderWay.delete(inputs.engine);
    connection.close();
  }
}

export const check = checkInputs;

function connectionChanged(olds: EngineHotfixesState, news: EngineHotfixesInputs): boolean {
  return JSON.stringify(olds.route) !== JSON.stringify(news.route);
}

/** Changes when the observed state is not the desired one, when the engine could not be read, or when the way to the host changed. */
export async function diff(_id: string, oldProps: unknown, newProps: unknown): Promise<pulumi.dynamic.DiffResult> {
  // A refresh diffs against the stored inputs: an earlier release's do not parse, and do differ.
  if (((await checkInputs(undefined, newProps)).failures ?? []).length > 0) return { changes: true };
  const news = parseInputs(newProps);
  if (news === undefined) return { changes: true };
  const olds = readStoredState(news.engine, oldProps);
  // An engine the refresh could not read is never shown as compliant.
  const drift = driftReasons(olds, news.files).length > 0 || olds.unreachable !== undefined;
  return { changes: drift || connectionChanged(olds, news), replaces: [], deleteBeforeReplace: false };
}

function requireInputs(props: unknown): EngineHotfixesInputs {
  const inputs = parseInputs(props);
  if (inputs === undefined) throw new Error("EngineHotfixes: inputs are not known yet");
  return inputs;
}

export async function create(props: unknown): Promise<pulumi.dynamic.CreateResult> {
  const inputs = requireInputs(props);
  const id = inputs.engine;
  return { id, outs: await converge(id, inputs, undefined, serializedProviderOf(props)) };
}

export async function update(id: string, olds: unknown, newProps: unknown): Promise<pulumi.dynamic.UpdateResult> {
  const inputs = requireInputs(newProps);
  const before = readStoredState(inputs.engine, olds);
  return { outs: await converge(id, inputs, before, serializedProviderOf(newProps)) };
}

/**
 * Probes the host. The observation becomes the state; when the engine falls short of the
 * requirement it also becomes the inputs, so the engine's diff reads `"13.3.600.0" => "13.3.609.117"`.
 * An engine that meets the requirement gets the requirement as its inputs: an engine newer than
 * required would otherwise show a change on every refresh. A state of an earlier release is
 * migrated here, so the refresh of an up records it in this release's shape.
 */
export async function read(id: string, props: unknown): Promise<pulumi.dynamic.ReadResult> {
  const engine = id.split("/")[0] ?? id;
  if (!programRan()) throw new Error(staleConfigProblem(engine));
  // What the last up did is that up's record: a refresh reads the engine afresh.
  const {
    unreachable: _unreachable,
    lastRun: _lastRun,
    lastMaintenance: _lastMaintenance,
    ...state
  } = readStoredState(engine, props);
  const required = requirementOfState(state);
  const target: EngineTarget = { ...targetOf(state), files: required };
  const connection = connectionOf(target, state.settings);
  let refreshed: EngineHotfixesState;
  try {
    const observed = await runbookFor(target, state.settings, connection, false).probe();
    const { comPlusResponding: _earlier, ...known } = state;
    refreshed = { ...known, ...observed, schemaVersion: stateSchemaVersion, lastRun: null };
    if (notResponding(observed)) say(`[${state.engine}] NOT RESPONDING: ${notRespondingReason}`);
    // Active and answering, for rollout.minInRotation: deactivated, stopped, not responding or leased count as out.
    rollout.observe(
      state.engine,
      observed.engineState === "active" &&
        observed.comPlusState === "running" &&
        !notResponding(observed) &&
        observed.maintenance === undefined,
    );
  } catch (error) {
    const cause = unreachableCause(error);
    if (cause === undefined) {
      throw new Error(`engine ${state.engine}: refresh could not probe the host: ${(error as Error).message}`);
    }
    // The rest of the fleet is still read: this engine keeps what was last known, marked unreachable.
    say(`[${state.engine}] UNREACHABLE: ${cause.message}`);
    refreshed = { ...state, schemaVersion: stateSchemaVersion, unreachable: cause.message, lastRun: null };
    rollout.observe(state.engine, false);
  } finally {
    connection.close();
  }
  const meetsRequirement =
    refreshed.unreachable === undefined &&
    state.required !== undefined &&
    driftReasons(refreshed, state.required).length === 0;
  const { required: _required, lastRun: _none, comPlusResponding: _responding, ...observedAsInputs } = refreshed;
  // Inputs as the display compares them with the stack's: observed values where the engine falls short,
  // and why the engine could not be read, where it could not.
  const inputs = meetsRequirement ? { ...observedAsInputs, files: required } : observedAsInputs;
  return { id, props: refreshed, inputs };
}

/** Removing an engine from the stack stops managing it; a hotfix is never uninstalled. */
export async function remove(): Promise<void> {
  return Promise.resolve();
}

export { rolloutResultProvider } from "./rolloutResultProvider";

/** What the dynamic-provider host calls (see serializedProviders.ts). */
export const provider: pulumi.dynamic.ResourceProvider = {
  configure,
  check,
  diff,
  create,
  update,
  read,
  delete: remove,
};
