import { fork, type ChildProcess } from "node:child_process";
import {
  processesWithCommandLine,
  processTree,
  pssBytes,
  sampleProcess,
  ticksPerSecond,
  type ProcessSample,
} from "./procTree";

/**
 * Peak resident memory of a process tree, sampled from /proc in a process of its own, so that a
 * busy event loop in the bench (which runs the inline Pulumi program) cannot delay a sample, and
 * so that the sampler's own memory is not counted. It also adds up the CPU time each process of
 * the tree used while sampling, and that of a few watched processes outside it (the simulator).
 * Processes that left the tree can be counted with it by a marker in their command line (the
 * ControlPersist masters of OpenSSH, reparented to init once the ssh that started them exits).
 */

export interface MemoryReport {
  /** Highest sum of RSS over the tree seen in one sample. */
  readonly peakBytes: number;
  /**
   * Highest sum of PSS (shared pages divided among the processes that map them) over the tree,
   * read every `pssEvery`-th sample and in the last one: reading smaps_rollup costs more than status.
   */
  readonly peakPssBytes: number;
  readonly pssSamples: number;
  /** The processes of that sample, largest first; the root process is named "runner" (see SamplingOptions). */
  readonly atPeak: readonly ProcessSample[];
  /** The highest RSS each command name reached in any sample (processes of one name summed). */
  readonly peakByName: Readonly<Record<string, number>>;
  /** CPU seconds used during the sampling, by command name, tree and watched processes alike. */
  readonly cpuSecondsByName: Readonly<Record<string, number>>;
  readonly samples: number;
  /** Longest time between two samples: how far the sampling fell behind its interval. */
  readonly maxGapMs: number;
  /** CPU seconds the sampler itself used during the session (on the same CPUs as what it measures). */
  readonly samplerCpuSeconds: number;
}

export interface SamplingOptions {
  /** Also count every process whose command line contains this text, with its descendants. */
  readonly commandLineMarker?: string;
  /** The name the root process is reported under ("runner" by default). */
  readonly rootName?: string;
}

interface Session {
  readonly root: number;
  readonly exclude: readonly number[];
  /** Label => pid: processes whose CPU time is reported (with their descendants), not their memory. */
  readonly watch: Readonly<Record<string, number>>;
  readonly intervalMs: number;
  readonly pssEvery: number;
  readonly commandLineMarker: string | undefined;
  readonly rootName: string;
}

type Request = ({ readonly type: "begin" } & Session) | { readonly type: "end" };
type Reply = { readonly type: "begun" } | { readonly type: "report"; readonly report: MemoryReport };

/** The parent's handle on the sampler process. */
export class MemorySampler {
  private constructor(private readonly child: ChildProcess) {}

  static start(): MemorySampler {
    return new MemorySampler(fork(__filename, ["--sampler"], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Measures the tree of `root` (without the subtrees of the watched processes) while `work` runs. */
  async during<T>(
    root: number,
    watch: Readonly<Record<string, number>>,
    work: () => Promise<T>,
    options: SamplingOptions = {},
  ): Promise<[T, MemoryReport]> {
    const exclude = [...Object.values(watch), this.pid];
    await this.request({
      type: "begin",
      root,
      exclude,
      watch,
      intervalMs: 50,
      pssEvery: 10,
      commandLineMarker: options.commandLineMarker,
      rootName: options.rootName ?? "runner",
    });
    try {
      const result = await work();
      return [result, await this.end()];
    } catch (error) {
      await this.end().catch(() => undefined);
      throw error;
    }
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode === null) this.child.kill();
  }

  private async end(): Promise<MemoryReport> {
    const reply = await this.request({ type: "end" });
    if (reply.type !== "report") throw new Error("memory sampler: no report");
    return reply.report;
  }

  private request(message: Request): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const onExit = (): void => reject(new Error("memory sampler exited"));
      this.child.once("exit", onExit);
      this.child.once("message", (reply: Reply) => {
        this.child.off("exit", onExit);
        resolve(reply);
      });
      this.child.send(message);
    });
  }
}

/** One sampling session: peak memory of the tree, CPU ticks of every process seen. */
class Sampling {
  private peakBytes = 0;
  private peakPssBytes = 0;
  private pssSamples = 0;
  private readonly notMatching = new Set<number>();
  private readonly cpuAtStart = process.cpuUsage();
  private atPeak: ProcessSample[] = [];
  private readonly peakByName: Record<string, number> = {};
  /** pid => [label, ticks when first seen (0 for a process started after the first sample), ticks last seen]. */
  private readonly cpu = new Map<number, [string, number, number]>();
  private samples = 0;
  private last = 0;
  private maxGapMs = 0;
  private readonly excluded: ReadonlySet<number>;

  constructor(private readonly session: Session) {
    this.excluded = new Set(session.exclude);
  }

  /** The root's tree, and the trees of the processes carrying the session's marker. */
  private pids(): number[] {
    const pids = new Set(processTree(this.session.root, this.excluded));
    const marker = this.session.commandLineMarker;
    if (marker !== undefined) {
      for (const root of processesWithCommandLine(marker, this.notMatching)) {
        for (const pid of processTree(root, this.excluded)) pids.add(pid);
      }
    }
    return [...pids];
  }

  sample(last = false): void {
    const now = performance.now();
    if (this.last > 0) this.maxGapMs = Math.max(this.maxGapMs, now - this.last);
    this.last = now;
    const first = this.samples === 0;
    const pids = this.pids();
    const tree = pids.flatMap((pid) => {
      const sample = sampleProcess(pid);
      if (sample === undefined) return [];
      return [pid === this.session.root ? { ...sample, name: this.session.rootName } : sample];
    });
    const watched = Object.entries(this.session.watch).flatMap(([label, pid]) =>
      processTree(pid).flatMap((p) => {
        const sample = sampleProcess(p);
        return sample === undefined ? [] : [{ ...sample, name: label }];
      }),
    );
    for (const p of [...tree, ...watched]) {
      const seen = this.cpu.get(p.pid);
      this.cpu.set(p.pid, [p.name, seen?.[1] ?? (first ? p.cpuTicks : 0), p.cpuTicks]);
    }
    const byName: Record<string, number> = {};
    for (const p of tree) byName[p.name] = (byName[p.name] ?? 0) + p.rssBytes;
    for (const [name, bytes] of Object.entries(byName)) {
      this.peakByName[name] = Math.max(this.peakByName[name] ?? 0, bytes);
    }
    if (last || this.samples % this.session.pssEvery === 0) {
      const pss = pids.reduce((sum, pid) => sum + (pssBytes(pid) ?? 0), 0);
      this.peakPssBytes = Math.max(this.peakPssBytes, pss);
      this.pssSamples++;
    }
    this.samples++;
    const total = tree.reduce((sum, p) => sum + p.rssBytes, 0);
    if (total > this.peakBytes) {
      this.peakBytes = total;
      this.atPeak = tree.sort((a, b) => b.rssBytes - a.rssBytes);
    }
  }

  report(): MemoryReport {
    const cpuSecondsByName: Record<string, number> = {};
    for (const [name, firstTicks, lastTicks] of this.cpu.values()) {
      cpuSecondsByName[name] = (cpuSecondsByName[name] ?? 0) + (lastTicks - firstTicks) / ticksPerSecond;
    }
    const cpu = process.cpuUsage(this.cpuAtStart);
    return {
      peakBytes: this.peakBytes,
      peakPssBytes: this.peakPssBytes,
      pssSamples: this.pssSamples,
      atPeak: this.atPeak,
      peakByName: this.peakByName,
      cpuSecondsByName,
      samples: this.samples,
      maxGapMs: Math.round(this.maxGapMs),
      samplerCpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }
}

/** The sampler process: one sampling session at a time, driven by the parent. */
function runSampler(): void {
  let timer: NodeJS.Timeout | undefined;
  let sampling: Sampling | undefined;
  process.on("message", (message: Request) => {
    if (message.type === "begin") {
      const current = new Sampling(message);
      sampling = current;
      current.sample();
      timer = setInterval(() => current.sample(), message.intervalMs);
      process.send?.({ type: "begun" } satisfies Reply);
      return;
    }
    clearInterval(timer);
    sampling?.sample(true);
    const report = sampling?.report();
    if (report !== undefined) process.send?.({ type: "report", report } satisfies Reply);
  });
  process.on("disconnect", () => process.exit(0));
}

if (require.main === module && process.argv.includes("--sampler")) runSampler();
