import { availableParallelism } from "node:os";
import {
  LocalWorkspace,
  Stack,
  StackAlreadyExistsError,
  StackNotFoundError,
  type OutputMap,
  type PreviewOptions,
  type PreviewResult,
  type UpOptions,
} from "@pulumi/pulumi/automation";
import { z } from "zod";
import type { FleetConfigError, FleetPlan } from "../components/config/fleetPlan";
import { rolloutBatches, type BatchSize as BatchSizeValue } from "../components/batches";
import { BatchSize } from "../components/config/fleetConfig";
import { fleetProgram } from "../components/program";
import { projectRoot } from "./projectRoot";
import { engineEnvironment, pulumiCommand } from "./pulumiToolchain";

/** A stack of this project opened through the Automation API, and the product's preview and up of it. */

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
