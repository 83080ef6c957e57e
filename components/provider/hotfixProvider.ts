import { readFileSync } from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { EngineConnection } from "../host/engineConnection";
import type { EnginePlan } from "../config/fleetPlan";
import { driftReasons, type ObservedState } from "../runbook/observedState";
import { Runbook, RunbookError, rotationNotice, type StepEvent } from "../runbook/runbook";
import type { HotfixTarget } from "../runbook/target";
import { parseResourceProps, type HotfixResourceInputs } from "./resourceState";
import { progressLine } from "./progress";

/**
 * The handlers of the HotfixOnEngine dynamic resource. They run in the dynamic-provider host
 * process the engine starts, which loads this module by package name (see providerShim.ts).
 */

function targetOf(inputs: HotfixResourceInputs): HotfixTarget {
  return {
    engineName: inputs.engine,
    hotfixId: inputs.hotfixId,
    requiredVersions: inputs.fileVersions,
    ...inputs.target,
  };
}

function connectionOf(inputs: HotfixResourceInputs): EngineConnection {
  const plan: EnginePlan = { name: inputs.engine, route: inputs.route, hotfixes: [], binDir: inputs.target.binDir };
  return new EngineConnection(plan, inputs.credentials, inputs.settings.connectTimeoutMs);
}

/**
 * The engine stops its plugins with SIGINT, and a terminal's Ctrl-C may reach this host too.
 * Exiting while a runbook runs could leave an engine deactivated, so then the host stays up: the
 * runbook finishes the step under way, starts no further step that takes the engine down, and
 * puts the engine back into rotation. With no runbook running, SIGINT ends the host as usual.
 */
let interrupted = false;
let runbooksInProgress = 0;
process.on("SIGINT", () => {
  if (runbooksInProgress === 0) process.exit(0);
  if (!interrupted) {
    console.error("interrupt received: finishing the current step, then putting the engine back into rotation");
  }
  interrupted = true;
});

/** Progress goes to stderr, which the engine streams into its own output as the run goes. */
function reportStep(inputs: HotfixResourceInputs): (event: StepEvent) => void {
  return (event) => {
    if (event.status !== "started") console.error(progressLine(event, inputs.settings.position));
  };
}

function runbookFor(inputs: HotfixResourceInputs, connection: EngineConnection, progress: boolean): Runbook {
  return new Runbook(targetOf(inputs), {
    runner: connection,
    settings: inputs.settings,
    packageBase64: () => readFileSync(inputs.target.packagePath).toString("base64"),
    interrupted: () => interrupted,
    ...(progress ? { onStep: reportStep(inputs) } : {}),
  });
}

function withObserved(inputs: HotfixResourceInputs, observed: ObservedState): HotfixResourceInputs {
  const { adoptOnly: _adoptOnly, ...rest } = inputs;
  return { ...rest, ...observed };
}

/** The state a create or update records: what the probe observed, and the requirement it was held to. */
function stateAfter(inputs: HotfixResourceInputs, observed: ObservedState): HotfixResourceInputs {
  return { ...withObserved(inputs, observed), requiredFileVersions: inputs.fileVersions };
}

/**
 * A failed create or update still records where the engine stands, so the next preview shows it.
 * The dynamic-provider host stores these properties as they are, so they must carry the
 * serialized provider (`__provider`) that later reads are run with.
 */
class PartialStateError extends Error {
  readonly properties: Record<string, unknown>;

  constructor(
    message: string,
    readonly id: string,
    state: HotfixResourceInputs,
    serializedProvider: unknown,
  ) {
    super(message);
    this.properties = { ...state, __provider: serializedProvider };
  }
}

function serializedProviderOf(props: unknown): unknown {
  return (props as { __provider?: unknown } | undefined)?.__provider;
}

async function probeAfterFailure(inputs: HotfixResourceInputs): Promise<HotfixResourceInputs> {
  const connection = connectionOf(inputs);
  try {
    return stateAfter(inputs, await runbookFor(inputs, connection, false).probe());
  } catch {
    return {
      ...inputs,
      engineState: "deactivated",
      comPlusState: "stopped",
      requiredFileVersions: inputs.fileVersions,
    };
  } finally {
    connection.close();
  }
}

async function converge(
  id: string,
  inputs: HotfixResourceInputs,
  serializedProvider: unknown,
): Promise<HotfixResourceInputs> {
  const connection = connectionOf(inputs);
  runbooksInProgress += 1;
  try {
    const runbook = runbookFor(inputs, connection, true);
    const observed = inputs.adoptOnly === true ? await runbook.probe() : await runbook.converge();
    return stateAfter(inputs, observed);
  } catch (error) {
    connection.close();
    if (!(error instanceof RunbookError)) throw error;
    const message = `${error.message}\n  ${rotationNotice(error)}`;
    console.error(`[${inputs.engine}] FAILED: ${message}`);
    if (error.rotation === "untouched") throw new Error(message);
    throw new PartialStateError(message, id, await probeAfterFailure(inputs), serializedProvider);
  } finally {
    runbooksInProgress -= 1;
    connection.close();
  }
}

export async function check(_olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult> {
  parseResourceProps("HotfixOnEngine inputs", news);
  return { inputs: news as Record<string, unknown> };
}

function connectionChanged(olds: HotfixResourceInputs, news: HotfixResourceInputs): boolean {
  return (
    JSON.stringify(olds.route) !== JSON.stringify(news.route) ||
    JSON.stringify(olds.credentials) !== JSON.stringify(news.credentials)
  );
}

/** Changes when the observed state is not the desired one, or when the way to the host changed. */
export async function diff(_id: string, oldProps: unknown, newProps: unknown): Promise<pulumi.dynamic.DiffResult> {
  const olds = parseResourceProps("HotfixOnEngine state", oldProps);
  const news = parseResourceProps("HotfixOnEngine inputs", newProps);
  const drift = driftReasons(olds, news.fileVersions).length > 0;
  return { changes: drift || connectionChanged(olds, news), replaces: [], deleteBeforeReplace: false };
}

export async function create(props: unknown): Promise<pulumi.dynamic.CreateResult> {
  const inputs = parseResourceProps("HotfixOnEngine inputs", props);
  const id = `${inputs.engine}/${inputs.hotfixId}`;
  return { id, outs: await converge(id, inputs, serializedProviderOf(props)) };
}

export async function update(id: string, _olds: unknown, newProps: unknown): Promise<pulumi.dynamic.UpdateResult> {
  const inputs = parseResourceProps("HotfixOnEngine inputs", newProps);
  return { outs: await converge(id, inputs, serializedProviderOf(newProps)) };
}

/**
 * Probes the host. The observation becomes the state; when the engine falls short of the
 * requirement it also becomes the inputs, so the engine's diff reads `"13.3.600.0" => "13.3.609.1"`.
 * An engine that meets the requirement keeps the stack's inputs: an engine newer than required
 * would otherwise show a change on every refresh.
 */
export async function read(id: string, props: unknown): Promise<pulumi.dynamic.ReadResult> {
  const state = parseResourceProps("HotfixOnEngine state", props);
  const connection = connectionOf(state);
  try {
    const observed = await runbookFor(state, connection, false).probe();
    const refreshed = withObserved(state, observed);
    const { requiredFileVersions: required, ...observedAsInputs } = refreshed;
    const meetsRequirement = required !== undefined && driftReasons(observed, required).length === 0;
    return meetsRequirement ? { id, props: refreshed } : { id, props: refreshed, inputs: observedAsInputs };
  } catch (error) {
    throw new Error(`engine ${state.engine}: refresh could not probe the host: ${(error as Error).message}`);
  } finally {
    connection.close();
  }
}

/** Removing an engine from the stack stops managing it; a hotfix is never uninstalled. */
export async function remove(): Promise<void> {
  return Promise.resolve();
}

/** What the dynamic-provider host calls (see providerShim.ts). */
export const provider: pulumi.dynamic.ResourceProvider = { check, diff, create, update, read, delete: remove };
