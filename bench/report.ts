import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BenchResults, SizeResult, Target } from "./results";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The targets, judged at the largest fleet measured (200 engines in a full run). */
export function evaluateTargets(sizes: readonly SizeResult[]): Target[] {
  const largest = [...sizes].sort((a, b) => b.engines - a.engines)[0];
  if (largest === undefined) return [];
  const engines = largest.engines;
  const targets: Target[] = [];
  const compliant = largest.previews.find((p) => p.fleet === "compliant");
  if (compliant !== undefined) {
    const ratio = compliant.ratio;
    targets.push({
      name: "compliant-fleet preview / (fixed cost + floor)",
      engines,
      value: round(ratio, 2),
      limit: 1.5,
      unit: "x",
      met: ratio <= 1.5,
    });
  }
  for (const up of largest.ups) {
    targets.push({
      name: `up overhead per engine beyond simulated steps (maxUnavailable ${up.maxUnavailable})`,
      engines,
      value: Math.round(up.overheadPerEngineMs),
      limit: 300,
      unit: "ms",
      met: up.overheadPerEngineMs < 300,
    });
  }
  const peak = Math.max(
    ...largest.previews.map((p) => p.memory.peakBytes),
    ...largest.ups.map((u) => u.memory.peakBytes),
  );
  targets.push({
    name: "peak memory (previews and ups)",
    engines,
    value: Math.round(peak),
    limit: GiB,
    unit: "bytes",
    met: peak < GiB,
  });
  return targets;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

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
    "Per size: adopt time, one script on a reused session of the up fleet, state size:",
    table(["engines", "adopt", "exec (Nagle / NODELAY)", "checkpoint", "per resource", "__provider"], stateRows),
    "",
    "CPU seconds by process (runner = inline program + Automation API; node = dynamic-provider hosts;",
    "simulator = the fleet process, not counted in memory):",
    ...results.sizes.flatMap((size) => [
      ...size.previews.map((p) => `  ${size.engines} ${p.fleet} preview: ${cpuLine(p.memory.cpuSecondsByName)}`),
      ...size.ups.map(
        (u) => `  ${size.engines} up maxUnavailable ${u.maxUnavailable}: ${cpuLine(u.memory.cpuSecondsByName)}`,
      ),
    ]),
    "",
    "Targets:",
    ...targetLines,
  ].join("\n");
}

export function writeResults(path: string, results: BenchResults): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
