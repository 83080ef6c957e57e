import { createEmptyStack } from "./emptyStack";
import type { MemorySampler } from "./memorySampler";
import { measureOperation, type OperationRequest } from "./operationRunner";
import type { FixedCost } from "./results";
import { median } from "./stats";

/** Previews of a stack without resources: one untimed warm-up, then `runs` timed ones; one up. */
export async function measureFixedCost(
  env: Readonly<Record<string, string>>,
  sampler: MemorySampler,
  runs: number,
): Promise<FixedCost> {
  const name = `test-bench-${process.pid}-empty`;
  const empty = await createEmptyStack(name, env);
  try {
    const stack = { kind: "empty", name, workDir: empty.workDir } as const;
    const preview: OperationRequest = { stack, operation: "preview", env };
    await measureOperation(preview, sampler, {});
    const measures = [];
    for (let i = 0; i < runs; i++) measures.push(await measureOperation(preview, sampler, {}));
    const up = await measureOperation({ stack, operation: "up", env }, sampler, {});
    const previewRunsMs = measures.map((m) => m.ms);
    const peak = measures.reduce((a, b) => (b.memory.peakBytes > a.memory.peakBytes ? b : a));
    return { previewRunsMs, previewMs: median(previewRunsMs), memory: peak.memory, upMs: up.ms };
  } finally {
    await empty.dispose();
  }
}
