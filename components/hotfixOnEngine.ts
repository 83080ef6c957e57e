import * as pulumi from "@pulumi/pulumi";
import type { HotfixResourceInputs } from "./provider/resourceState";
import { providerSource } from "./provider/providerShim";
import { inRotation } from "./runbook/observedState";

type InputsOf<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

/** The inputs of one hotfix on one engine; the desired-state keys are set by the resource itself. */
export type HotfixOnEngineArgs = InputsOf<
  Omit<HotfixResourceInputs, "engineState" | "comPlusState" | "restartPending" | "adoptOnly" | "requiredFileVersions">
> & {
  /** Register what is deployed without changing the host (taking over an existing fleet). */
  readonly adoptOnly?: boolean;
};

/**
 * One hotfix on one MPS engine. Its state is what the engine's probe observed; its inputs are
 * what the stack requires. `read` probes the host, `diff` compares, `create`/`update` run the
 * KB952089 runbook. A dynamic resource rather than a command: a command resource cannot read a
 * host's state, so it could never show drift, and it reruns only when its own inputs change.
 * It is what `pulumi.dynamic.Resource` registers, with a short `__provider` (see providerShim.ts).
 */
export class HotfixOnEngine extends pulumi.CustomResource {
  /** File name => deployed version ("missing" when absent). */
  declare public readonly fileVersions: pulumi.Output<Record<string, string>>;
  declare public readonly engineState: pulumi.Output<"active" | "deactivated">;
  declare public readonly comPlusState: pulumi.Output<"running" | "stopped">;
  declare public readonly restartPending: pulumi.Output<boolean>;

  constructor(name: string, args: HotfixOnEngineArgs, opts?: pulumi.CustomResourceOptions) {
    const { adoptOnly, ...rest } = args;
    super(
      "pulumi-nodejs:dynamic/mpshotfix:HotfixOnEngine",
      name,
      {
        ...rest,
        ...(adoptOnly === true ? { adoptOnly } : {}),
        ...inRotation,
        __provider: providerSource,
      },
      { ...opts, additionalSecretOutputs: ["credentials"] },
    );
  }
}
