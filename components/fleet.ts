import * as pulumi from "@pulumi/pulumi";
import { rolloutBatches } from "./batches";
import { maintenanceSettingsOf } from "./config/fleetConfig";
import type { FleetPlan } from "./config/fleetPlan";
import { EngineServer, type EngineCompliance } from "./engineServer";
import { RolloutResult } from "./rolloutResult";

export interface FleetArgs {
  /** The validated fleet (from planFleet): engines, hotfixes, rollout and host settings. */
  readonly plan: FleetPlan;
  /** Register what is deployed without changing any host (taking over an existing fleet). */
  readonly adoptOnly?: boolean;
}

export interface FleetCompliance {
  readonly engines: Record<
    string,
    { readonly compliant: boolean; readonly hotfixes: Record<string, EngineCompliance> }
  >;
  readonly compliantEngines: number;
  readonly totalEngines: number;
}

/**
 * Every engine of a stack, rolled out in batches (`rollout.batches`, or `rollout.maxUnavailable`
 * engines at a time): each batch
 * depends on the whole batch before it, so the first engine that fails stops the rollout there
 * and the engines after it are not touched in that run. Credentials are not an argument: the
 * handlers read them from the stack's `mps-hotfix:credentials` config.
 */
export class Fleet extends pulumi.ComponentResource {
  public readonly engines: readonly EngineServer[];
  public readonly compliance: pulumi.Output<FleetCompliance>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mpshotfix:index:Fleet", name, {}, opts);
    const { plan } = args;
    const settings = maintenanceSettingsOf(plan.rollout);
    // The batches order the rollout; a preview changes nothing, so it need not wait for them.
    const ordered = !pulumi.runtime.isDryRun();
    let previousBatch: EngineServer[] = [];
    const engines: EngineServer[] = [];
    for (const batch of rolloutBatches(plan.engines, plan.rollout)) {
      const servers = batch.map(
        (target) =>
          new EngineServer(
            `${name}-${target.engine.toLowerCase()}`,
            { target, settings, ...(args.adoptOnly === true ? { adoptOnly: true } : {}) },
            { parent: this, dependsOn: ordered ? previousBatch : [] },
          ),
      );
      engines.push(...servers);
      previousBatch = servers;
    }
    this.engines = engines;
    new RolloutResult(
      `${name}-result`,
      {
        shortfalls: pulumi
          .all(engines.map((server, i) => pulumi.all([plan.engines[i]!.engine, server.hotfixes.lastRun])))
          .apply((runs) =>
            runs.flatMap(([engine, run]) => (run === undefined || run === null ? [] : [{ engine, ...run }])),
          ),
      },
      { parent: this, dependsOn: engines },
    );
    this.compliance = pulumi
      .all(
        engines.map((server, i) =>
          pulumi
            .all([server.compliant, server.compliance])
            .apply(([compliant, hotfixes]) => [plan.engines[i]!.engine, { compliant, hotfixes }] as const),
        ),
      )
      .apply((entries) => ({
        engines: Object.fromEntries(entries),
        compliantEngines: entries.filter(([, e]) => e.compliant).length,
        totalEngines: engines.length,
      }));
    this.registerOutputs({ compliance: this.compliance });
  }
}
