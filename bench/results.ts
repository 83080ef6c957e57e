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
  /** An up of the same empty stack, for reference. */
  readonly upMs: number;
}

/** One timed operation of the product (a preview or an up), from the median of its runs. */
export interface OperationResult {
  readonly ms: number;
  /** The runner's start and stack open before the timed operation (OperationMeasure.startMs). */
  readonly startMs: number;
  /** Every run's time (a preview's with its start); the others are the median run's (see repeats in run.ts). */
  readonly runsMs: readonly number[];
  readonly memory: MemoryReport;
  readonly steps: Readonly<Partial<Record<OpType, number>>>;
  readonly phases: OperationMeasure["phases"];
}

export interface PreviewResult extends OperationResult {
  readonly fleet: "drifted" | "compliant";
  /** The bare parallel SSH probe of the same fleet: every run and the median. */
  readonly floorRunsMs: readonly number[];
  readonly floorMs: number;
  /** Preview time / (fixed cost + floor). */
  readonly ratio: number;
  /** Ansible's probe of the same fleet in the same state, per forks; empty when Ansible is missing. */
  readonly ansible: readonly AnsibleProbeResult[];
}

/** One ansible-playbook run, timed from its start to its exit, its process tree sampled. */
export interface AnsibleRun {
  readonly forks: number;
  readonly ms: number;
  /** Every run's time where the bench repeats it (the others are the median run's); else [ms]. */
  readonly runsMs?: readonly number[];
  readonly exitCode: number;
  readonly memory: MemoryReport;
}

export interface AnsibleProbeResult extends AnsibleRun {
  /** Hosts whose probe task failed: the ones whose answer lacks a required version (all when drifted). */
  readonly failedHosts: number;
  /**
   * The product's (runner start + stack open + preview) / this run: both as a command waits for
   * them, from starting the process to the answer.
   */
  readonly ratio: number;
  /** The product's timed preview alone / this run. */
  readonly previewOnlyRatio: number;
}

export interface AnsibleUpResult extends AnsibleRun {
  /** The play's `serial`, beside the product's maxUnavailable of the same value. */
  readonly serial: number;
  readonly simulated: StepAccount;
  /** (playbook time - Ansible's fixed cost - delays on the critical path) / engines. */
  readonly overheadPerEngineMs: number;
  readonly ratioToDelays: number;
  /** Engines the bare SSH probe read at the required version after the playbook. */
  readonly compliantEnginesAfter: number;
  /** Steps of the product's maintenance the playbook does not run (the bench does them, untimed). */
  readonly leftOut: readonly string[];
  /** The product's (start + up) at maxUnavailable = serial / this run; undefined without that up. */
  readonly ratio: number | undefined;
}

/** ansible-playbook of a play without tasks on localhost: one warm-up, then the median of --runs. */
export interface AnsibleFixedCost {
  readonly runsMs: readonly number[];
  readonly ms: number;
  readonly memory: MemoryReport;
}

export type AnsibleInfo =
  | {
      readonly available: true;
      readonly version: string;
      readonly fixedCost: AnsibleFixedCost;
      /** What every run sets; everything else is Ansible's default. */
      readonly environment: Readonly<Record<string, string>>;
      readonly sshCommonArgs: string;
    }
  | {
      readonly available: false;
      /** Why the Ansible columns are empty: "not installed" or "--no-ansible". */
      readonly reason: "not installed" | "--no-ansible";
      readonly missing: readonly string[];
      /** How to install what is missing. */
      readonly install: string;
    };

/** An up; its median run is the one of median overhead per engine. */
export interface UpResult extends OperationResult {
  readonly maxUnavailable: number;
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
  /** The up's peer: the product's maintenance as a playbook, serial = each maxUnavailable. */
  readonly ansibleUps: readonly AnsibleUpResult[];
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
  readonly ansible: AnsibleInfo;
  /** Beside Ansible at the largest fleet: the preview, each up's overhead per engine, peak memory (RSS and PSS). */
  readonly besideAnsible: readonly Comparison[];
}

export interface Comparison {
  readonly name: string;
  readonly engines: number;
  readonly product: number;
  readonly ansible: number;
  readonly unit: "ms" | "bytes";
  /** product / ansible. */
  readonly ratio: number;
}
