import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/** One engine that an up left short of the requirement, as its EngineHotfixes resource recorded it. */
export const EngineShortfall = z.strictObject({
  engine: z.string(),
  outcome: z.enum(["failed", "skipped"]),
  reason: z.string(),
});
export type EngineShortfall = z.infer<typeof EngineShortfall>;

const RolloutResultInputs = z.object({ shortfalls: z.array(EngineShortfall) });

function shortfallsOf(props: unknown): EngineShortfall[] | undefined {
  const parsed = RolloutResultInputs.safeParse(props);
  return parsed.success ? parsed.data.shortfalls : undefined;
}

/**
 * The end of a rollout: it fails the run when any engine failed or was not started, so that an up
 * that went on past failed engines (rollout.maxFailures) still ends with a non-zero exit, with
 * `mps-hotfix up` and a plain `pulumi up` alike. It touches no host.
 */
function verdict(props: unknown): void {
  const shortfalls = shortfallsOf(props) ?? [];
  if (shortfalls.length === 0) return;
  const failed = shortfalls.filter((s) => s.outcome === "failed").map((s) => s.engine);
  const skipped = shortfalls.filter((s) => s.outcome === "skipped").map((s) => s.engine);
  const parts = [
    ...(failed.length > 0 ? [`${failed.length} engine(s) failed (${failed.join(", ")})`] : []),
    ...(skipped.length > 0 ? [`${skipped.length} engine(s) were not started (${skipped.join(", ")})`] : []),
  ];
  throw new Error(
    `the rollout did not bring every engine to the requirement: ${parts.join("; ")}:\n${shortfalls.map((s) => `  ${s.engine}: ${s.reason.split("\n")[0]}`).join("\n")}`,
  );
}

export const rolloutResultProvider: pulumi.dynamic.ResourceProvider = {
  diff: async (_id, _olds, news) => Promise.resolve({ changes: (shortfallsOf(news) ?? [undefined]).length > 0 }),
  create: async (inputs) => {
    verdict(inputs);
    return Promise.resolve({ id: "rollout", outs: inputs as Record<string, unknown> });
  },
  update: async (_id, _olds, news) => {
    verdict(news);
    return Promise.resolve({ outs: news as Record<string, unknown> });
  },
  read: async (id, props) => Promise.resolve({ id, props: props as Record<string, unknown> }),
  delete: async () => Promise.resolve(),
};
