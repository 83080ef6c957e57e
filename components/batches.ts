/** A batch size as a stack gives it: a count of engines, or a percentage of the fleet such as "25%". */
export type BatchSize = number | `${number}%`;

/** A size in engines: a percentage of `total` rounds up, and a batch holds one engine at least. */
export function engineCount(size: BatchSize, total: number): number {
  const count = typeof size === "number" ? size : Math.ceil((Number(size.slice(0, -1)) * total) / 100);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`batch size must be a whole number of at least 1, or a percentage, not ${String(size)}`);
  }
  return count;
}

/** The batches a rollout makes of its engines: `rollout.batches`, else batches of `maxUnavailable`. */
export function rolloutBatches<T>(
  engines: readonly T[],
  rollout: { readonly maxUnavailable?: number | undefined; readonly batches?: readonly BatchSize[] | undefined },
): T[][] {
  return rampedBatches(engines, rollout.batches ?? [rollout.maxUnavailable ?? 1]);
}

/**
 * Items in consecutive batches of the given sizes, the last size repeating, as Ansible's
 * `serial: [1, 5, "20%"]`: a canary of one first, then wider batches.
 */
export function rampedBatches<T>(items: readonly T[], sizes: readonly BatchSize[]): T[][] {
  if (sizes.length === 0) throw new Error("give at least one batch size");
  const counts = sizes.map((size) => engineCount(size, items.length));
  const batches: T[][] = [];
  for (let start = 0, i = 0; start < items.length; i++) {
    const count = counts[Math.min(i, counts.length - 1)]!;
    batches.push(items.slice(start, start + count));
    start += count;
  }
  return batches;
}
