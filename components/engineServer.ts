import * as pulumi from "@pulumi/pulumi";
import { fileDrift, rotationDrift } from "./domain/drift";
import type { ObservedState } from "./domain/observation";
import type { EngineTarget, MaintenanceSettings } from "./domain/target";
import { EngineHotfixes, legacyHotfixOnEngineType } from "./engineHotfixes";
import { resourceInputsFor } from "./provider/resourceState";

export interface EngineServerArgs {
  /** The engine, its route and every hotfix it must carry (from planFleet). */
  readonly target: EngineTarget;
  /** Timeouts and failure handling of the engine's maintenance (the stack's rollout settings). */
  readonly settings: MaintenanceSettings;
  /** Register what is deployed without changing the host. */
  readonly adoptOnly?: boolean;
}

export interface EngineCompliance {
  readonly compliant: boolean;
  readonly fileVersions: Record<string, string>;
  readonly engineState: string;
  readonly comPlusState: string;
  readonly restartPending: boolean;
  readonly drift: string[];
}

/** Per hotfix: what the engine has and why it does not satisfy the stack, if it does not. */
export function complianceOf(target: EngineTarget, observed: ObservedState): Record<string, EngineCompliance> {
  const rotation = rotationDrift(observed);
  return Object.fromEntries(
    target.packages.map(({ hotfix }) => {
      const drift = [...fileDrift(observed, hotfix, target.files[hotfix] ?? {}), ...rotation];
      const entry: EngineCompliance = {
        compliant: drift.length === 0,
        fileVersions: { ...observed.files[hotfix] },
        engineState: observed.engineState,
        comPlusState: observed.comPlusState,
        restartPending: observed.restartPending,
        drift,
      };
      return [hotfix, entry];
    }),
  );
}

/**
 * One MPS engine server and every hotfix it must carry: one resource, so that an up takes the
 * engine out of rotation at most once, whatever the number of hotfixes.
 */
export class EngineServer extends pulumi.ComponentResource {
  public readonly hotfixes: EngineHotfixes;
  /** Per hotfix id: what the engine has and whether it satisfies the stack. */
  public readonly compliance: pulumi.Output<Record<string, EngineCompliance>>;
  /** True when every hotfix is in place and the engine is in rotation. */
  public readonly compliant: pulumi.Output<boolean>;

  constructor(name: string, args: EngineServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mpshotfix:index:EngineServer", name, {}, opts);
    const { target } = args;
    const first = target.packages[0];
    if (first === undefined) {
      throw new pulumi.ResourceError(`engine ${target.engine}: target.packages: no hotfixes to carry`, this);
    }
    this.hotfixes = new EngineHotfixes(`${name}-hotfixes`, resourceInputsFor(target, args.settings, args.adoptOnly), {
      parent: this,
      // Release 0.1 kept one resource per engine and hotfix; its first hotfix's resource becomes this one.
      aliases: [{ name: `${name}-${first.hotfix.toLowerCase()}`, type: legacyHotfixOnEngineType }],
    });

    // In a preview the engine projects inputs onto outputs, so computed compliance would repeat
    // the requirement; it is known only after an up or a refresh.
    const r = this.hotfixes;
    const computed = pulumi
      .all([r.files, r.engineState, r.comPlusState, r.restartPending])
      .apply(([files, engineState, comPlusState, restartPending]) =>
        complianceOf(target, { files, engineState, comPlusState, restartPending }),
      );
    this.compliance = pulumi.runtime.isDryRun()
      ? (pulumi.output(pulumi.unknown) as pulumi.Output<Record<string, EngineCompliance>>)
      : computed;
    this.compliant = this.compliance.apply((byHotfix) => Object.values(byHotfix).every((c) => c.compliant));
    this.registerOutputs({ compliance: this.compliance, compliant: this.compliant });
  }
}
