import type { OpType } from "@pulumi/pulumi/automation";
import type { StepAccount } from "./criticalPath";
import type { ExecLatency } from "./execLatency";
import type { MemoryReport } from "./memorySampler";
import type { OperationMeasure } from "./operationRunner";
import type { StateSize } from "./stateSize";

/** The numbers of one bench run, as written to bench/results/latest.json. */

export interface FixedCost {
  /** Each timed preview of the empty stack (after one untimed warm-up), and their median. */
  readonly previewRunsMs: readonly number[];
  readonly previewMs: number;
  readonly memory: MemoryReport;
  /** An up of the same empty stack, for reference: the Automation API reads outputs and history after an up. */
  readonly upMs: number;
}

export interface PreviewResult {
  readonly fleet: "drifted" | "compliant";
  readonly ms: number;
  readonly memory: MemoryReport;
  readonly steps: Readonly<Partial<Record<OpType, number>>>;
  readonly phases: OperationMeasure["phases"];
  /** The bare parallel SSH probe of the same fleet: every run and the median. */
  readonly floorRunsMs: readonly number[];
  readonly floorMs: number;
  /** Preview time / (fixed cost + floor). */
  readonly ratio: number;
}

export interface UpResult {
  readonly maxUnavailable: number;
  readonly ms: number;
  readonly memory: MemoryReport;
  readonly steps: Readonly<Partial<Record<OpType, number>>>;
  readonly phases: OperationMeasure["phases"];
  readonly simulated: StepAccount;
  /** (up time - fixed cost - delays on the critical path) / engines. */
  readonly overheadPerEngineMs: number;
  /** Up time / delays on the critical path. */
  readonly ratioToDelays: number;
  readonly compliantEnginesAfter: number;
}

export interface SizeResult {
  readonly engines: number;
  readonly adoptMs: number;
  readonly previews: readonly PreviewResult[];
  readonly ups: readonly UpResult[];
  /** One script's round trip on a reused session of the up fleet (step delay included). */
  readonly execLatency: ExecLatency;
  readonly state: StateSize;
}

export interface Target {
  readonly name: string;
  readonly engines: number;
  readonly value: number;
  readonly limit: number;
  readonly unit: string;
  readonly met: boolean;
}

export interface BenchResults {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: {
    readonly cpus: number;
    readonly memoryBytes: number;
    readonly node: string;
    readonly pulumi: string;
    /** Resource operations the engine runs at once (4 x CPUs unless PULUMI_PARALLEL); ups raise it to maxUnavailable. */
    readonly engineParallelism: number;
    /** 1-minute load average before and after the run: other work on the machine skews the numbers. */
    readonly loadAverage: { readonly before: number; readonly after: number };
  };
  /** The simulator's delay before answering each script, during the ups (previews run with none). */
  readonly stepDelayMs: number;
  /** Variables added to every engine run with --engine-env (none in a regular run). */
  readonly engineEnv: Readonly<Record<string, string>>;
  readonly fixedCost: FixedCost;
  readonly sizes: readonly SizeResult[];
  readonly targets: readonly Target[];
}
