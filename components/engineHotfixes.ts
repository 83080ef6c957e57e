import * as pulumi from "@pulumi/pulumi";
import type { ObservedState } from "./domain/observation";
import type { EngineHotfixesInputs, LastRun } from "./provider/resourceState";
import { engineHotfixesProvider } from "./provider/serializedProviders";

/** The type token release 0.1 registered one resource per engine and hotfix under (see aliases). */
export const legacyHotfixOnEngineType = "pulumi-nodejs:dynamic/mpshotfix:HotfixOnEngine";
export const engineHotfixesType = "pulumi-nodejs:dynamic/mpshotfix:EngineHotfixes";

type InputsOf<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

/** Every input of the resource, each of which a caller may wire from another resource. */
export type EngineHotfixesArgs = InputsOf<EngineHotfixesInputs>;

/**
 * The whole hotfix state of one MPS engine. Its inputs are what the stack requires (every file of
 * every hotfix the engine must carry, grouped by hotfix id, and the engine in rotation); its state
 * is what the engine's probe observed under the same keys. `read` probes the host, `diff`
 * compares, `create`/`update` run one maintenance for all outdated hotfixes. A dynamic resource
 * rather than a command: a command resource cannot read a host's state, so it could never show
 * drift, and it reruns only when its own inputs change. The module and type arguments keep
 * release 0.2's type token, `pulumi-nodejs:dynamic/mpshotfix:EngineHotfixes`
 * (https://www.pulumi.com/docs/iac/concepts/providers/dynamic-providers/).
 */
export class EngineHotfixes extends pulumi.dynamic.Resource {
  /** Hotfix id => file name => deployed version ("missing" when absent). */
  declare public readonly files: pulumi.Output<ObservedState["files"]>;
  declare public readonly engineState: pulumi.Output<ObservedState["engineState"]>;
  declare public readonly comPlusState: pulumi.Output<ObservedState["comPlusState"]>;
  declare public readonly restartPending: pulumi.Output<boolean>;
  /** Set when the last up left the engine short of the requirement (failed, or not started). */
  declare public readonly lastRun: pulumi.Output<LastRun | null | undefined>;

  constructor(name: string, args: EngineHotfixesArgs, opts?: pulumi.CustomResourceOptions) {
    super(engineHotfixesProvider, name, { ...args, lastRun: undefined }, opts, "mpshotfix", "EngineHotfixes");
  }
}
