import * as pulumi from "@pulumi/pulumi";
import type { EngineShortfall } from "./provider/rolloutResultProvider";
import { rolloutResultProvider } from "./provider/serializedProviders";

export const rolloutResultType = "pulumi-nodejs:dynamic/mpshotfix:RolloutResult";

export interface RolloutResultArgs {
  /** The engines the rollout left short of the requirement, from their EngineHotfixes' `lastRun`. */
  readonly shortfalls: pulumi.Input<readonly EngineShortfall[]>;
}

/**
 * The end of a rollout: depends on every engine and fails the run when any of them failed or was
 * not started, so that an up that went on past failed engines still exits non-zero.
 */
export class RolloutResult extends pulumi.dynamic.Resource {
  constructor(name: string, args: RolloutResultArgs, opts?: pulumi.CustomResourceOptions) {
    super(rolloutResultProvider, name, { ...args }, opts, "mpshotfix", "RolloutResult");
  }
}
