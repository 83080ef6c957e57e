import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  LocalWorkspace,
  PulumiCommand,
  Stack,
  StackAlreadyExistsError,
  StackNotFoundError,
  type ConfigMap,
  type Deployment,
  type LocalWorkspaceOptions,
  type PreviewOptions,
  type PreviewResult,
  type UpOptions,
} from "@pulumi/pulumi/automation";
import { z } from "zod";
import { planFleet, type FleetConfigError, type FleetPlan } from "../components/config/fleetPlan";
import { engineHotfixesType, legacyHotfixOnEngineType } from "../components/engineHotfixes";
import { rolloutBatches, type BatchSize as BatchSizeValue } from "../components/batches";
import { BatchSize } from "../components/config/fleetConfig";
import { fleetProgram } from "../components/program";
import { startProviderServer } from "../components/provider/providerServer";
import { findProjectRoot } from "./projectRoot";
import { upWithoutReadBack, type FleetUpResult } from "./upWithoutReadBack";

export const projectRoot = findProjectRoot();

/** The passphrase of the demo stack's secrets; the demo's simulated hosts guard nothing real. */
export const demoPassphrase = "mps-hotfix-demo";

export interface StackOptions {
  readonly stackName: string;
  readonly adoptOnly?: boolean;
  /** Extra environment for the engine and the provider processes. */
  readonly env?: Readonly<Record<string, string>>;
  readonly onPlan?: (plan: FleetPlan) => void;
  readonly onRefused?: (error: FleetConfigError) => void;
}

let toolchainDir: string | undefined;

/** The folder of the pinned CLI: scripts/toolchain.sh decides, and builds it when needed. */
export function ensureToolchain(): string {
  toolchainDir ??= execFileSync("bash", [join(projectRoot, "scripts", "toolchain.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return toolchainDir;
}

/**
 * The Automation API's handle on that CLI, through the launcher scripts/toolchain.sh writes in
 * .tools/cli/bin: it answers the version the toolchain checked, so the CLI is not started only
 * to say it again, and hands every other command to the CLI.
 */
export async function pulumiCommand(): Promise<PulumiCommand> {
  ensureToolchain();
  return PulumiCommand.get({ root: join(projectRoot, ".tools", "cli") });
}

/**
 * The environment every engine run gets: a local state backend inside the project unless
 * PULUMI_BACKEND_URL says otherwise, no calls out, and the toolchain and the dynamic-provider
 * host on PATH.
 */
export function engineEnvironment(
  stackName: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const binDir = ensureToolchain();
  const localState = join(projectRoot, ".pulumi-state");
  // The file backend expects its folder to exist; a fresh clone has none yet.
  if (process.env["PULUMI_BACKEND_URL"] === undefined && extra["PULUMI_BACKEND_URL"] === undefined) {
    mkdirSync(localState, { recursive: true });
  }
  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: process.env["PULUMI_BACKEND_URL"] ?? `file://${localState}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
    PATH: [join(projectRoot, ".tools", "bin"), binDir, process.env["PATH"] ?? ""].join(":"),
    ...extra,
  };
  const hasPassphrase =
    process.env["PULUMI_CONFIG_PASSPHRASE"] !== undefined || process.env["PULUMI_CONFIG_PASSPHRASE_FILE"] !== undefined;
  if (!hasPassphrase && stackName === "demo" && extra["PULUMI_CONFIG_PASSPHRASE"] === undefined) {
    env["PULUMI_CONFIG_PASSPHRASE"] = demoPassphrase;
  }
  return env;
}

type ConfigValue = { readonly value: unknown; readonly secret: boolean } | undefined;

/** A config value, parsed as JSON; undefined where the stack does not set it or it is not JSON. */
function configValue(config: ConfigMap, key: string): ConfigValue {
  const entry = config[key];
  if (entry === undefined) return undefined;
  try {
    return { value: JSON.parse(entry.value) as unknown, secret: entry.secret === true };
  } catch {
    return undefined;
  }
}

/**
 * The stack's fleet, validated as the program validates it, before the engine runs: bad input
 * gets its one message (a FleetConfigError) and no host is contacted.
 */
export async function planStack(stack: Stack): Promise<FleetPlan> {
  // The whole config in one CLI process: each process costs a quarter of a second, and the one
  // secret the product reads (the credentials) is needed decrypted here anyway.
  const config = await withStack(stack, () => stack.getAllConfig());
  const fleet = configValue(config, "mps-hotfix:fleet");
  const credentials = configValue(config, "mps-hotfix:credentials");
  return planFleet({
    stack: stack.name,
    fleet: fleet?.value,
    credentials: credentials?.value,
    credentialsAreSecret: credentials === undefined || credentials.secret,
    baseDir: projectRoot,
  });
}

/** Whether the stack's state holds any engine yet (a stack that does not must `adopt` first to see drift). */
export async function managesEngines(stack: Stack): Promise<boolean> {
  let state: Deployment;
  try {
    state = await stack.exportStack();
  } catch (error) {
    if (error instanceof StackNotFoundError) return false;
    throw error;
  }
  const resources = (state.deployment as { resources?: { type: string }[] } | undefined)?.resources ?? [];
  return resources.some((r) => r.type === engineHotfixesType || r.type === legacyHotfixOnEngineType);
}

/**
 * What an up reads before the engine starts, side by side: the stack's checked plan (bad input
 * stops it here, with no host contacted) and, unless it adopts, whether the stack manages any
 * engine yet.
 */
export async function beforeUp(stack: Stack, adopting: boolean): Promise<{ plan: FleetPlan; managesEngines: boolean }> {
  const [plan, manages] = await Promise.all([planStack(stack), adopting ? true : managesEngines(stack)]);
  return { plan, managesEngines: manages };
}

/** A stack of this project, running the fleet program inline (see unselectedStack). */
export async function openStack(options: StackOptions): Promise<Stack> {
  const program = fleetProgram({
    projectDir: projectRoot,
    ...(options.adoptOnly === true ? { adoptOnly: true } : {}),
    ...(options.onPlan ? { onPlan: options.onPlan } : {}),
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
  });
  return unselectedStack(options.stackName, {
    workDir: projectRoot,
    program,
    pulumiCommand: await pulumiCommand(),
    envVars: engineEnvironment(options.stackName, options.env),
  });
}

/**
 * The stack, without `pulumi stack select`: every command the Automation API runs names its
 * stack, so selecting it would only start the CLI to check that the backend holds it. A stack
 * the backend does not hold yet is created by the first command that needs it (withStack).
 */
export async function unselectedStack(stackName: string, options: LocalWorkspaceOptions): Promise<Stack> {
  const workspace = await LocalWorkspace.create(options);
  workspace.selectStack = () => Promise.resolve();
  try {
    return await Stack.select(stackName, workspace);
  } finally {
    Reflect.deleteProperty(workspace, "selectStack");
  }
}

/** Runs `operation` on the stack; where the backend holds no such stack yet, creates it and runs it again. */
export async function withStack<T>(stack: Stack, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!(error instanceof StackNotFoundError)) throw error;
    try {
      await stack.workspace.createStack(stack.name);
    } catch (created) {
      // Another command, started on the new stack at the same time, created it meanwhile.
      if (!(created instanceof StackAlreadyExistsError)) throw created;
    }
    return operation();
  }
}

/**
 * Every preview of the product: refreshed from the hosts first, without checkpoints, and with
 * the dynamic provider served from this process (withServedProvider). The refresh runs the
 * program (`runProgram`, in every up too): otherwise the engine configures the dynamic provider
 * from the config it stored at the last up, and the refresh would log on with the credentials of
 * then, not the stack's current `mps-hotfix:credentials`. A preview persists nothing, yet the
 * engine serializes the whole snapshot after each step and discards it; at 200 engines that was
 * half a preview's time and most of the engine's memory. An up keeps its checkpoints, so the
 * state of an interrupted rollout records each engine that completed. The provider answers
 * nothing before `checked` resolves, and nothing after it rejects (checkedPreview.ts).
 */
export function previewFleet(
  stack: Stack,
  options: Omit<PreviewOptions, "refresh"> = {},
  checked: Promise<unknown> = Promise.resolve(),
): Promise<PreviewResult> {
  return withServedProvider(stack, { PULUMI_SKIP_CHECKPOINTS: "true" }, checked, () =>
    stack.preview({ ...options, refresh: true, runProgram: true }),
  );
}

/**
 * Every up of the product: refreshed from the hosts first, with room for a whole batch. The
 * engine runs at most PULUMI_PARALLEL resource operations at once (by default 4 x the CPUs its Go
 * runtime sees, which a container's CPU quota can lower), which would split a batch of
 * `rollout.maxUnavailable` engines into waves; so any batch larger than one sets `parallel`. The
 * batches come from `plan` when the caller has checked the stack's config already (the CLI
 * does), else from the stack's `mps-hotfix:fleet`.
 */
export function upFleet(
  stack: Stack,
  options: Omit<UpOptions, "refresh" | "parallel"> = {},
  plan?: FleetPlan,
): Promise<FleetUpResult> {
  return withServedProvider(stack, {}, Promise.resolve(), async () => {
    const batch = plan === undefined ? await largestBatchOf(stack) : largestBatch(plan.engines, plan.rollout);
    const usual = usualParallelism(stack.workspace.envVars);
    return upWithoutReadBack(stack, {
      ...options,
      refresh: true,
      runProgram: true,
      ...(batch > 1 ? { parallel: Math.max(batch, usual) } : {}),
    });
  });
}

/**
 * Runs a preview or an up with the dynamic provider served from this process
 * (providerServer.ts): the engine attaches to it instead of starting a provider host, a node
 * process that loads the SDK and the handlers again, a third of a second and a third of a
 * 1-engine preview's memory. The settings live in the workspace for the run's duration: do not
 * run another command on the same Stack object meanwhile. Runs of one process go one at a time:
 * they share the handlers' module state (the stack's credentials, the rollout's failures).
 */
function withServedProvider<T>(
  stack: Stack,
  settings: Readonly<Record<string, string>>,
  ready: Promise<unknown>,
  run: () => Promise<T>,
): Promise<T> {
  const served = providerRuns.then(() => withStack(stack, () => runServed(stack, settings, ready, run)));
  providerRuns = served.catch(() => undefined);
  return served;
}

let providerRuns: Promise<unknown> = Promise.resolve();

async function runServed<T>(
  stack: Stack,
  settings: Readonly<Record<string, string>>,
  ready: Promise<unknown>,
  run: () => Promise<T>,
): Promise<T> {
  const env = stack.workspace.envVars;
  const server = await startProviderServer(projectRoot, "mps-hotfix", { ready });
  const attach = `pulumi-nodejs:${server.port}`;
  const debugProviders = env["PULUMI_DEBUG_PROVIDERS"] ?? process.env["PULUMI_DEBUG_PROVIDERS"];
  const overrides: Record<string, string> = {
    ...settings,
    PULUMI_DEBUG_PROVIDERS: debugProviders === undefined ? attach : `${debugProviders},${attach}`,
  };
  const saved = Object.fromEntries(Object.keys(overrides).map((key) => [key, env[key]]));
  Object.assign(env, overrides);
  try {
    return await run();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) Reflect.deleteProperty(env, key);
      else env[key] = value;
    }
    await server.stop();
  }
}

/** The engine's parallelism without a `parallel` option: PULUMI_PARALLEL, or 4 x CPUs. */
export function usualParallelism(workspaceEnv: Readonly<Record<string, string>>): number {
  // The workspace's variables override the process's for the engine, as the Automation API passes them.
  const configured = Number(workspaceEnv["PULUMI_PARALLEL"] ?? process.env["PULUMI_PARALLEL"] ?? 0);
  return configured > 0 ? configured : availableParallelism() * 4;
}

const RolloutOfConfig = z.object({
  engines: z.array(z.unknown()),
  rollout: z.object({ maxUnavailable: z.number().int().min(1).optional(), batches: z.array(BatchSize).optional() }),
});

/** The largest batch the rollout makes of these engines (rolloutBatches, as Fleet makes them). */
function largestBatch(
  engines: readonly unknown[],
  rollout: { readonly maxUnavailable?: number | undefined; readonly batches?: readonly BatchSizeValue[] | undefined },
): number {
  return Math.max(...rolloutBatches(engines, rollout).map((b) => b.length));
}

/** The stack's largest batch of engines; 1 when unset or unreadable (the program reports bad config). */
async function largestBatchOf(stack: Stack): Promise<number> {
  try {
    // One key, not getAllConfig: that one decrypts every secret of the stack.
    const fleet = RolloutOfConfig.parse(JSON.parse((await stack.getConfig("mps-hotfix:fleet")).value));
    return largestBatch(fleet.engines, fleet.rollout);
  } catch {
    return 1;
  }
}
