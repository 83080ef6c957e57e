import * as pulumi from "@pulumi/pulumi";
import type { Credential } from "./config/fleetConfig";
import { credentialNamesFor, type EnginePlan } from "./config/fleetPlan";
import type { HostSettings, RolloutSettings } from "./config/fleetConfig";
import { HotfixOnEngine } from "./hotfixOnEngine";
import { driftReasons } from "./runbook/observedState";

export interface EngineServerArgs {
  /** The engine, its route and the hotfixes it must carry (from planFleet). */
  readonly engine: EnginePlan;
  /** Credentials by endpoint name; only those of this engine's hops are passed on, as secrets. */
  readonly credentials: pulumi.Input<Readonly<Record<string, Credential>>>;
  readonly host: HostSettings;
  readonly rollout: RolloutSettings;
  /** Where the engine stands in the rollout, such as "2 of 4", for progress lines. */
  readonly position: string;
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

/** One MPS engine server and its hotfixes, applied one after another in catalog order. */
export class EngineServer extends pulumi.ComponentResource {
  public readonly hotfixes: readonly HotfixOnEngine[];
  /** Per hotfix id: what the engine has and whether it satisfies the stack. */
  public readonly compliance: pulumi.Output<Record<string, EngineCompliance>>;
  /** True when every hotfix is in place and the engine is in rotation. */
  public readonly compliant: pulumi.Output<boolean>;

  constructor(name: string, args: EngineServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mpshotfix:index:EngineServer", name, {}, opts);
    const { engine } = args;
    if (engine.hotfixes.length === 0) {
      throw new pulumi.ResourceError(`engine ${engine.name}: no hotfixes to carry`, this);
    }
    const hops = credentialNamesFor(engine);
    const credentials = pulumi.secret(
      pulumi.output(args.credentials).apply((all) => Object.fromEntries(hops.map((hop) => [hop, all[hop] ?? {}]))),
    );

    let previous: HotfixOnEngine | undefined;
    this.hotfixes = engine.hotfixes.map((requirement) => {
      const requiredVersions = Object.fromEntries(requirement.files.map((f) => [f.name, f.version]));
      const resource: HotfixOnEngine = new HotfixOnEngine(
        `${name}-${requirement.hotfix.id.toLowerCase()}`,
        {
          engine: engine.name,
          hotfixId: requirement.hotfix.id,
          route: engine.route,
          credentials,
          target: {
            packageFile: requirement.hotfix.packageFile,
            packagePath: requirement.packagePath,
            packageSha256: requirement.packageSha256,
            binDir: engine.binDir,
            stagingDir: args.host.stagingDir,
            comPlusApplication: args.host.comPlusApplication,
            engineControlProgId: args.host.engineControlProgId,
          },
          settings: {
            connectTimeoutMs: args.rollout.connectTimeoutSeconds * 1000,
            stepTimeoutMs: args.rollout.stepTimeoutSeconds * 1000,
            complusShutdownTimeoutSeconds: args.rollout.complusShutdownTimeoutSeconds,
            installAttempts: args.rollout.installAttempts,
            installRetryDelayMs: args.rollout.installRetryDelaySeconds * 1000,
            leaveFailedEngineOut: args.rollout.leaveFailedEngineOut,
            position: args.position,
          },
          fileVersions: requiredVersions,
          ...(args.adoptOnly === true ? { adoptOnly: true } : {}),
        },
        { parent: this, ...(previous ? { dependsOn: [previous] } : {}) },
      );
      previous = resource;
      return resource;
    });

    // In a preview the engine projects inputs onto outputs, so computed compliance would repeat
    // the requirement; it is known only after an up or a refresh.
    const computed = pulumi
      .all(
        this.hotfixes.map((resource, i) =>
          pulumi
            .all([resource.fileVersions, resource.engineState, resource.comPlusState, resource.restartPending])
            .apply(([fileVersions, engineState, comPlusState, restartPending]) => {
              const requirement = engine.hotfixes[i]!;
              const required = Object.fromEntries(requirement.files.map((f) => [f.name, f.version]));
              const drift = driftReasons({ fileVersions, engineState, comPlusState, restartPending }, required);
              const entry: EngineCompliance = {
                compliant: drift.length === 0,
                fileVersions,
                engineState,
                comPlusState,
                restartPending,
                drift,
              };
              return [requirement.hotfix.id, entry] as const;
            }),
        ),
      )
      .apply((entries) => Object.fromEntries(entries));
    this.compliance = pulumi.runtime.isDryRun()
      ? (pulumi.output(pulumi.unknown) as pulumi.Output<Record<string, EngineCompliance>>)
      : computed;
    this.compliant = this.compliance.apply((byHotfix) => Object.values(byHotfix).every((c) => c.compliant));
    this.registerOutputs({ compliance: this.compliance, compliant: this.compliant });
  }
}
