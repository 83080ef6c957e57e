import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { MemoryReport } from "./memorySampler";
import type {
  AnsibleRun,
  AnsibleUpResult,
  BenchResults,
  Comparison,
  PreviewResult,
  SizeResult,
  Target,
  UpResult,
} from "./results";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** A preview's peak memory (RSS of its process tree) may reach this at up to 10 engines, and the next limit beyond. */
const previewMemoryLimits: readonly { readonly upTo: number; readonly bytes: number }[] = [
  { upTo: 10, bytes: 300 * MiB },
  { upTo: Infinity, bytes: 600 * MiB },
];

/**
 * The targets, judged at every fleet size measured: the compliant-fleet preview (start
 * included) faster than the fastest Ansible probe of the same fleet, each up's overhead per engine
 * below the playbook's at the same serial, and a preview's peak memory below 300 MiB up to 10
 * engines and 600 MiB beyond. The Ansible targets are judged only where Ansible ran.
 */
export function evaluateTargets(sizes: readonly TargetMeasures[]): Target[] {
  return [...sizes].sort((a, b) => a.engines - b.engines).flatMap(targetsAt);
}

/** What the targets read of one fleet size's results. */
export interface TargetMeasures {
  readonly engines: number;
  readonly previews: readonly (Pick<PreviewResult, "fleet" | "ms" | "startMs"> & {
    readonly memory: Pick<MemoryReport, "peakBytes">;
    readonly ansible: readonly Pick<AnsibleRun, "forks" | "ms">[];
  })[];
  readonly ups: readonly Pick<UpResult, "maxUnavailable" | "overheadPerEngineMs">[];
  readonly ansibleUps: readonly Pick<AnsibleUpResult, "serial" | "overheadPerEngineMs">[];
}

function targetsAt(size: TargetMeasures): Target[] {
  const engines = size.engines;
  const targets: Target[] = [];
  const compliant = size.previews.find((p) => p.fleet === "compliant");
  const fastest = [...(compliant?.ansible ?? [])].sort((a, b) => a.ms - b.ms)[0];
  if (compliant !== undefined && fastest !== undefined) {
    const ratio = (compliant.startMs + compliant.ms) / fastest.ms;
    targets.push({
      name: `compliant-fleet preview (start + preview) / Ansible probe (${fastest.forks} forks)`,
      engines,
      value: round(ratio, 2),
      limit: 1,
      unit: "x",
      met: ratio < 1,
    });
  }
  for (const run of size.ansibleUps) {
    const up = size.ups.find((u) => u.maxUnavailable === run.serial);
    if (up === undefined) continue;
    targets.push({
      name: `up overhead per engine, maxUnavailable ${run.serial}, below the playbook's at serial ${run.serial} (${Math.round(run.overheadPerEngineMs)} ms)`,
      engines,
      value: Math.round(up.overheadPerEngineMs),
      limit: Math.round(run.overheadPerEngineMs),
      unit: "ms",
      met: up.overheadPerEngineMs < run.overheadPerEngineMs,
    });
  }
  const limit = previewMemoryLimits.find((l) => engines <= l.upTo)?.bytes ?? GiB;
  const peak = Math.max(...size.previews.map((p) => p.memory.peakBytes));
  if (size.previews.length > 0) {
    targets.push({
      name: "peak memory of a preview",
      engines,
      value: Math.round(peak),
      limit,
      unit: "bytes",
      met: peak < limit,
    });
  }
  return targets;
}

const largestOf = (sizes: readonly SizeResult[]): SizeResult | undefined =>
  [...sizes].sort((a, b) => b.engines - a.engines)[0];

/**
 * The targets' measures beside Ansible's, at the largest fleet measured: the compliant-fleet
 * preview (start included) beside the fastest Ansible probe, each up's overhead per engine beside
 * the playbook's at the same serial, peak memory (RSS and PSS) over every run of either.
 */
export function compareWithAnsible(sizes: readonly SizeResult[]): Comparison[] {
  const largest = largestOf(sizes);
  if (largest === undefined) return [];
  const engines = largest.engines;
  const comparisons: Comparison[] = [];
  const compare = (name: string, product: number, ansible: number, unit: Comparison["unit"]): void => {
    comparisons.push({
      name,
      engines,
      product: Math.round(product),
      ansible: Math.round(ansible),
      unit,
      ratio: round(product / ansible, 2),
    });
  };
  const compliant = largest.previews.find((p) => p.fleet === "compliant");
  const fastest = [...(compliant?.ansible ?? [])].sort((a, b) => a.ms - b.ms)[0];
  if (compliant !== undefined && fastest !== undefined) {
    compare(
      `compliant-fleet preview (start + preview) vs Ansible probe (${fastest.forks} forks)`,
      compliant.startMs + compliant.ms,
      fastest.ms,
      "ms",
    );
  }
  for (const run of largest.ansibleUps) {
    const up = largest.ups.find((u) => u.maxUnavailable === run.serial);
    if (up === undefined) continue;
    compare(
      `up overhead per engine, maxUnavailable ${run.serial} vs playbook serial ${run.serial}`,
      up.overheadPerEngineMs,
      run.overheadPerEngineMs,
      "ms",
    );
  }
  const ansibleRuns: AnsibleRun[] = [...largest.previews.flatMap((p) => p.ansible), ...largest.ansibleUps];
  if (ansibleRuns.length > 0) {
    const productRuns = [...largest.previews, ...largest.ups];
    const peak = (runs: readonly { memory: MemoryReport }[], key: "peakBytes" | "peakPssBytes"): number =>
      Math.max(...runs.map((r) => r.memory[key]));
    compare(
      "peak memory, RSS (previews and ups)",
      peak(productRuns, "peakBytes"),
      peak(ansibleRuns, "peakBytes"),
      "bytes",
    );
    compare(
      "peak memory, PSS (previews and ups)",
      peak(productRuns, "peakPssBytes"),
      peak(ansibleRuns, "peakPssBytes"),
      "bytes",
    );
  }
  return comparisons;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
/** Peak RSS / peak PSS of a run. */
const mem = (memory: MemoryReport): string =>
  `${(memory.peakBytes / MiB).toFixed(0)}/${(memory.peakPssBytes / MiB).toFixed(0)} MiB`;
const x = (ratio: number | undefined): string => (ratio === undefined ? "-" : `${ratio.toFixed(2)}x`);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function cpuLine(byName: Readonly<Record<string, number>>): string {
  return Object.entries(byName)
    .sort((a, b) => b[1] - a[1])
    .map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`)
    .join(", ");
}

export function renderReport(results: BenchResults): string {
  const fixed = results.fixedCost.previewMs;
  const previewRows = results.sizes.flatMap((size) =>
    size.previews.map((p) => [
      String(size.engines),
      p.fleet,
      s(p.ms),
      s(fixed),
      s(p.floorMs),
      `${p.ratio.toFixed(2)}x`,
      String(p.steps.update ?? 0),
      mib(p.memory.peakBytes),
    ]),
  );
  const ansibleCells = (p: PreviewResult, forks: number): string[] => {
    const run = p.ansible.find((a) => a.forks === forks);
    return run === undefined ? ["-", "-", "-"] : [s(run.ms), x(run.ratio), mem(run.memory)];
  };
  const ansiblePreviewRows = results.sizes.flatMap((size) =>
    size.previews.map((p) => [
      String(size.engines),
      p.fleet,
      s(p.startMs),
      s(p.startMs + p.ms),
      mem(p.memory),
      ...ansibleCells(p, 5),
      ...ansibleCells(p, size.engines),
    ]),
  );
  const ansibleUpRows = results.sizes.flatMap((size) =>
    size.ansibleUps.map((a) => {
      const up = size.ups.find((u) => u.maxUnavailable === a.serial);
      return [
        String(size.engines),
        String(a.serial),
        up === undefined ? "-" : s(up.startMs + up.ms),
        up === undefined ? "-" : `${up.overheadPerEngineMs.toFixed(0)} ms`,
        s(a.ms),
        `${a.simulated.criticalPathSteps} x ${results.stepDelayMs}ms = ${s(a.simulated.criticalPathDelayMs)}`,
        String(a.simulated.scripts),
        `${a.overheadPerEngineMs.toFixed(0)} ms`,
        x(a.ratio),
        `${a.compliantEnginesAfter}/${size.engines}`,
        up === undefined ? "-" : mem(up.memory),
        mem(a.memory),
      ];
    }),
  );
  const upRows = results.sizes.flatMap((size) =>
    size.ups.map((u) => [
      String(size.engines),
      String(u.maxUnavailable),
      s(u.ms),
      `${u.simulated.criticalPathSteps} x ${results.stepDelayMs}ms = ${s(u.simulated.criticalPathDelayMs)}`,
      String(u.simulated.dependencyChainSteps),
      `${u.simulated.scripts}`,
      `${u.overheadPerEngineMs.toFixed(0)} ms`,
      `${u.ratioToDelays.toFixed(2)}x`,
      `${u.compliantEnginesAfter}/${size.engines}`,
      mib(u.memory.peakBytes),
    ]),
  );
  const stateRows = results.sizes.map((size) => [
    String(size.engines),
    s(size.adoptMs),
    `${size.execLatency.nagleMs.toFixed(1)} / ${size.execLatency.noDelayMs.toFixed(1)} ms`,
    `${(size.state.checkpointBytes / 1024).toFixed(0)} KiB`,
    `${size.state.bytesPerResource} B`,
    `${size.state.providerBytesPerResource} B`,
  ]);
  const targetLines = results.targets.map(
    (t) =>
      `  ${t.met ? "MET   " : "MISSED"} ${t.name} at ${t.engines} engines: ` +
      (t.unit === "bytes"
        ? `${mib(t.value)} (limit ${mib(t.limit)})`
        : `${t.value}${t.unit} (limit ${t.limit}${t.unit})`),
  );
  const m = results.machine;
  return [
    `mps-hotfix bench: ${m.cpus} CPUs, node ${m.node}, pulumi ${m.pulumi}, engine parallelism ${m.engineParallelism} (ups: at least maxUnavailable), ` +
      `load average ${m.loadAverage.before.toFixed(2)} before, ${m.loadAverage.after.toFixed(2)} after`,
    ...(Object.keys(results.engineEnv).length > 0
      ? [
          `engine environment added: ${Object.entries(results.engineEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`,
        ]
      : []),
    `fixed cost (preview of an empty stack, median of ${results.fixedCost.previewRunsMs.length}): ${s(fixed)}; ` +
      `empty-stack up: ${s(results.fixedCost.upMs)}`,
    "",
    "Previews (refresh included; no step delay):",
    table(["engines", "fleet", "preview", "fixed", "floor", "ratio", "updates", "peak mem"], previewRows),
    "",
    `Ups over a drifted fleet (simulator delay ${results.stepDelayMs} ms per script):`,
    table(
      [
        "engines",
        "maxUnav",
        "up",
        "delays on critical path",
        "dep. chain",
        "scripts",
        "overhead/engine",
        "up/delays",
        "compliant",
        "peak mem",
      ],
      upRows,
    ),
    "",
    ...ansibleSection(results, ansiblePreviewRows, ansibleUpRows),
    "Per size: adopt time, one script on a reused session of the up fleet, state size:",
    table(["engines", "adopt", "exec (Nagle / NODELAY)", "checkpoint", "per resource", "__provider"], stateRows),
    "",
    "CPU seconds by process (runner = inline program + Automation API; node = the dynamic-provider host;",
    "simulator = the fleet process, not counted in memory; ansible-playboo = Ansible's forked workers, the kernel",
    "keeps 15 characters of a name; processes that live less than the 50 ms between samples are not seen):",
    ...results.sizes.flatMap((size) => [
      ...size.previews.map((p) => `  ${size.engines} ${p.fleet} preview: ${cpuLine(p.memory.cpuSecondsByName)}`),
      ...size.ups.map(
        (u) => `  ${size.engines} up maxUnavailable ${u.maxUnavailable}: ${cpuLine(u.memory.cpuSecondsByName)}`,
      ),
      ...size.previews.flatMap((p) =>
        p.ansible.map(
          (a) => `  ${size.engines} ${p.fleet} Ansible probe, ${a.forks} forks: ${cpuLine(a.memory.cpuSecondsByName)}`,
        ),
      ),
      ...size.ansibleUps.map(
        (a) => `  ${size.engines} Ansible up serial ${a.serial}: ${cpuLine(a.memory.cpuSecondsByName)}`,
      ),
    ]),
    "",
    "Targets:",
    ...targetLines,
    ...(results.besideAnsible.length > 0
      ? [
          "",
          "Beside Ansible at the largest fleet (product / Ansible):",
          ...results.besideAnsible.map(
            (c) =>
              `  ${c.name} at ${c.engines} engines: ` +
              (c.unit === "bytes" ? `${mib(c.product)} vs ${mib(c.ansible)}` : `${c.product} ms vs ${c.ansible} ms`) +
              ` (${c.ratio.toFixed(2)}x)`,
          ),
        ]
      : []),
  ].join("\n");
}

function ansibleSection(
  results: BenchResults,
  previewRows: readonly (readonly string[])[],
  upRows: readonly (readonly string[])[],
): string[] {
  const info = results.ansible;
  if (!info.available) {
    return [
      info.reason === "not installed"
        ? `Ansible: skipped, ${info.missing.join(", ")} not found (to measure it: ${info.install})`
        : "Ansible: left out (--no-ansible)",
      "",
    ];
  }
  return [
    `Ansible: ${info.version}; fixed cost (a play without tasks, median of ${info.fixedCost.runsMs.length}): ${s(info.fixedCost.ms)}`,
    "",
    "Previews beside Ansible (one raw task with the product's probe behind cmd.exe's echo pipe, failed where a version is missing;",
    "product = runner start and stack open + preview, Ansible = ansible-playbook from start to exit; x = product / Ansible;",
    "memory = peak RSS / peak PSS):",
    table(
      [
        "engines",
        "fleet",
        "start",
        "product",
        "memory",
        "Ansible 5 forks",
        "x",
        "memory",
        "1 fork/engine",
        "x",
        "memory",
      ],
      previewRows,
    ),
    "",
    `Ups beside Ansible (same fleet, delay ${results.stepDelayMs} ms per script; playbook serial = maxUnavailable, forks = max(5, serial);`,
    "the playbook leaves out stage-package, which the bench runs beforehand, untimed; overhead = (time - own fixed cost - delays) / engines):",
    table(
      [
        "engines",
        "batch",
        "product up",
        "overhead/engine",
        "Ansible",
        "delays on critical path",
        "scripts",
        "overhead/engine",
        "x",
        "compliant",
        "memory",
        "Ansible mem",
      ],
      upRows,
    ),
    "",
  ];
}

export function writeResults(path: string, results: BenchResults): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
