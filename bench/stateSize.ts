import type { Stack } from "@pulumi/pulumi/automation";
import { isHotfixResource } from "../cli/hotfixSteps";

/** How big the stack's state is, and how much of each engine's resource is the serialized provider. */
export interface StateSize {
  readonly checkpointBytes: number;
  readonly hotfixResources: number;
  /** Per EngineHotfixes resource (one per engine), on average: the whole resource, and its `__provider` string. */
  readonly bytesPerResource: number;
  readonly providerBytesPerResource: number;
}

interface ResourceLike {
  readonly type?: string;
  readonly outputs?: { readonly __provider?: unknown };
}

export async function stateSize(stack: Stack): Promise<StateSize> {
  const exported = await stack.exportStack();
  const deployment = exported.deployment as { resources?: readonly ResourceLike[] } | undefined;
  const hotfixes = (deployment?.resources ?? []).filter((r) => r.type !== undefined && isHotfixResource(r.type));
  const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null), "utf8");
  const count = Math.max(1, hotfixes.length);
  return {
    checkpointBytes: bytes(exported),
    hotfixResources: hotfixes.length,
    bytesPerResource: Math.round(hotfixes.reduce((sum, r) => sum + bytes(r), 0) / count),
    providerBytesPerResource: Math.round(hotfixes.reduce((sum, r) => sum + bytes(r.outputs?.__provider), 0) / count),
  };
}
