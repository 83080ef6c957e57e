// The runner stands for one mps-hotfix command, which starts with the compile cache (cli/main.ts).
import "../cli/compileCache";
import { fork } from "node:child_process";
import { programVerdict } from "../cli/checkedPreview";
import { beforeUp } from "../cli/stackPlan";
import { openStack } from "../cli/workspace";
import { onCleanupEndGroup } from "./cleanup";
import { selectEmptyStack } from "./emptyStack";
import type { MemoryReport, MemorySampler } from "./memorySampler";
import { timeOperation, type OperationKind, type TimedOperation } from "./operations";

/**
 * Each measured operation runs in a fresh runner process, as one `mps-hotfix preview` or `up`
 * would: the runner hosts the inline program (the Automation API's language host) and starts
 * the Pulumi CLI, which starts the dynamic-provider host. Its process tree is what is measured, so
 * memory the coordinating bench process kept from earlier measurements is not counted.
 */

export type StackRef =
  | { readonly kind: "fleet"; readonly name: string; readonly adoptOnly: boolean }
  | { readonly kind: "empty"; readonly name: string; readonly workDir: string };

export interface OperationRequest {
  readonly stack: StackRef;
  readonly operation: OperationKind;
  readonly env: Readonly<Record<string, string>>;
}

export interface OperationMeasure extends TimedOperation {
  readonly memory: MemoryReport;
  /**
   * Milliseconds from starting the runner process to its stack being open (Node, the Automation
   * API, the CLI's stack selection): what a command pays before the timed operation starts.
   */
  readonly startMs: number;
}

type RunnerMessage =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly result: TimedOperation }
  | { readonly type: "failed"; readonly error: string };

/** Node options for the runners, such as `--cpu-prof --cpu-prof-dir=…` (see run.ts --cpu-prof-dir). */
let runnerExecArgv: readonly string[] = [];
export function setRunnerExecArgv(execArgv: readonly string[]): void {
  runnerExecArgv = execArgv;
}

/**
 * Opens the stack in a runner, then times the operation there while the sampler watches the
 * runner's process tree; `watch` names processes outside it (the simulator) for CPU time only.
 */
export async function measureOperation(
  request: OperationRequest,
  sampler: MemorySampler,
  watch: Readonly<Record<string, number>>,
): Promise<OperationMeasure> {
  // A process group of its own: an interrupted bench ends the runner with the CLI and the
  // processes it started, and a terminal's Ctrl-C reaches the bench alone.
  const forked = performance.now();
  const runner = fork(__filename, ["--runner"], {
    stdio: ["ignore", "inherit", "pipe", "ipc"],
    execArgv: [...runnerExecArgv],
    detached: true,
  });
  const stopRunner = onCleanupEndGroup("operation runner", runner);
  // The toolchain check prints a line per process; the runner's stderr is shown only on failure.
  let stderr = "";
  runner.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const next = (): Promise<RunnerMessage> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`operation runner exited (${code ?? "signal"})`));
      runner.once("exit", onExit);
      runner.once("message", (message: RunnerMessage) => {
        runner.off("exit", onExit);
        resolve(message);
      });
    });
  const exited = new Promise((resolve) => runner.once("exit", resolve));
  try {
    const opening = next();
    runner.send(request);
    const ready = await opening;
    if (ready.type === "failed") throw new Error(ready.error);
    const startMs = performance.now() - forked;
    const [message, memory] = await sampler.during(runner.pid ?? -1, watch, async () => {
      const finished = next();
      runner.send({ type: "go" });
      return finished;
    });
    if (message.type !== "done") throw new Error(message.type === "failed" ? message.error : "runner: no result");
    return { ...message.result, memory, startMs };
  } catch (error) {
    if (stderr !== "") console.error(stderr);
    throw error;
  } finally {
    if (runner.connected) runner.disconnect();
    await exited;
    await stopRunner();
  }
}

/** The runner: open the stack, say so, run the operation when told, report, exit. */
function serve(): void {
  const send = (message: RunnerMessage): void => void process.send?.(message);
  const fail = (error: unknown): void =>
    send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.once("message", (request: OperationRequest) => {
    const { stack: ref, env } = request;
    const verdict = programVerdict();
    const opening =
      ref.kind === "fleet"
        ? openStack({ stackName: ref.name, adoptOnly: ref.adoptOnly, env, ...verdict.hooks })
        : selectEmptyStack(ref.name, ref.workDir, env);
    // Before an up, what the CLI reads before it (beforeUp) belongs to the start as well.
    const opened = opening.then(async (stack) => {
      const checkFirst = ref.kind === "fleet" && request.operation === "up";
      return { stack, plan: checkFirst ? (await beforeUp(stack, ref.adoptOnly)).plan : undefined };
    });
    opened.then(({ stack, plan }) => {
      process.once("message", () => {
        const check = ref.kind === "fleet" ? { verdict, plan } : "unchecked";
        timeOperation(stack, request.operation, check).then((result) => send({ type: "done", result }), fail);
      });
      send({ type: "ready" });
    }, fail);
  });
  process.on("disconnect", () => process.exit(0));
}

if (require.main === module && process.argv.includes("--runner")) serve();
