import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import {
  LocalWorkspace,
  PulumiCommand,
  Stack,
  StackAlreadyExistsError,
  StackNotFoundError,
  type ConfigMap,
  type Deployment,
  type OutputMap,
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
import { runProgramVariable } from "../components/provider/programRun";
import { findProjectRoot } from "./projectRoot";

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
  /** Whether a stack the backend does not hold yet is created (the default) or StackNotFoundError thrown. */
  readonly create?: boolean;
}

/** What an up of the product returns (from the Automation API's UpResult). */
export interface FleetUpResult {
  readonly outputs: OutputMap;
  /** The engine's count of resource steps by operation, as its summary gives it. */
  readonly resourceChanges: Readonly<Record<string, number>>;
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

let command: Promise<PulumiCommand> | undefined;

/**
 * The Automation API's handle on that CLI, one per process: PulumiCommand.get runs `pulumi
 * version` to check it, which need not be asked again. The toolchain prints the folder holding
 * the CLI; `root` is the folder above `bin/pulumi`
 * (https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/pulumi/automation/classes/PulumiCommand.html).
 */
export function pulumiCommand(): Promise<PulumiCommand> {
  const binDir = ensureToolchain();
  // A CLI on PATH outside a `bin` folder is the one `pulumi` names there (engineEnvironment's PATH too).
  command ??= PulumiCommand.get(basename(binDir) === "bin" ? { root: dirname(binDir) } : {});
  return command;
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
    // Every command runs the program (runProgram), and the provider host refuses a refresh that may not have.
    [runProgramVariable]: "true",
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

/**
 * A stack of this project, running the fleet program inline. Opening it selects it (one CLI
 * process, `pulumi stack select`), creating it in the backend from `stacks/Pulumi.<name>.yaml`
 * unless `create` is false.
 */
export async function openStack(options: StackOptions): Promise<Stack> {
  const program = fleetProgram({
    projectDir: projectRoot,
    ...(options.adoptOnly === true ? { adoptOnly: true } : {}),
    ...(options.onPlan ? { onPlan: options.onPlan } : {}),
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
  });
  const workspace = await LocalWorkspace.create({
    workDir: projectRoot,
    program,
    pulumiCommand: await pulumiCommand(),
    envVars: engineEnvironment(options.stackName, options.env),
  });
  return options.create === false
    ? Stack.select(options.stackName, workspace)
    : Stack.createOrSelect(options.stackName, workspace);
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
 * Every preview of the product: refreshed from the hosts first, without checkpoints. The refresh
 * runs the program (`runProgram`, in every up too): otherwise the engine configures the dynamic
 * provider from the config it stored at the last up, and the refresh would log on with the
 * credentials of then, not the stack's current `mps-hotfix:credentials`. A preview persists
 * nothing, yet the engine serializes the whole snapshot after each step and discards it
 * (PULUMI_SKIP_CHECKPOINTS, https://www.pulumi.com/docs/iac/cli/environment-variables/); at 200
 * engines that was half a preview's time and most of the engine's memory. An up keeps its
 * checkpoints, so the state of an interrupted rollout records each engine that completed. The
 * variable is set in the workspace for the preview's duration: do not run another command on the
 * same Stack meanwhile.
 */
export async function previewFleet(
  stack: Stack,
  options: Omit<PreviewOptions, "refresh"> = {},
): Promise<PreviewResult> {
  const workspace = stack.workspace;
  const earlier = workspace.envVars[skipCheckpoints];
  workspace.envVars[skipCheckpoints] = "true";
  try {
    return await withStack(stack, () => stack.preview({ ...options, refresh: true, runProgram: true }));
  } finally {
    if (earlier === undefined) Reflect.deleteProperty(workspace.envVars, skipCheckpoints);
    else workspace.envVars[skipCheckpoints] = earlier;
  }
}

const skipCheckpoints = "PULUMI_SKIP_CHECKPOINTS";

/**
 * Every up of the product: refreshed from the hosts first, with room for a whole batch. The
 * engine runs at most PULUMI_PARALLEL resource operations at once (by default 4 x the CPUs its Go
 * runtime sees, which a container's CPU quota can lower), which would split a batch of
 * `rollout.maxUnavailable` engines into waves; so any batch larger than one sets `parallel`. The
 * batches come from `plan` when the caller has checked the stack's config already (the CLI
 * does), else from the stack's `mps-hotfix:fleet`.
 */
export async function upFleet(
  stack: Stack,
  options: Omit<UpOptions, "refresh" | "parallel"> = {},
  plan?: FleetPlan,
): Promise<FleetUpResult> {
  const batch = plan === undefined ? await largestBatchOf(stack) : largestBatch(plan.engines, plan.rollout);
  const usual = usualParallelism(stack.workspace.envVars);
  const result = await withStack(stack, () =>
    stack.up({
      ...options,
      refresh: true,
      runProgram: true,
      ...(batch > 1 ? { parallel: Math.max(batch, usual) } : {}),
    }),
  );
  return { outputs: result.outputs, resourceChanges: result.summary.resourceChanges ?? {} };
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
