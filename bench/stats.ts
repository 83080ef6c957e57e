export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The run whose `measure` is the median of all runs' (of an even count, the lower middle one). */
export function medianRun<T>(runs: readonly T[], measure: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => measure(a) - measure(b));
  const run = sorted[Math.floor((sorted.length - 1) / 2)];
  if (run === undefined) throw new Error("medianRun: no runs");
  return run;
}
