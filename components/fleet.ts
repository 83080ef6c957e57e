import * as pulumi from "@pulumi/pulumi";
import type { Credential } from "./config/fleetConfig";
import type { FleetPlan } from "./config/fleetPlan";
import { EngineServer, type EngineCompliance } from "./engineServer";

export interface FleetArgs {
  /** The validated fleet (from planFleet): engines, hotfixes, rollout and host settings. */
  readonly plan: FleetPlan;
  /** Credentials by endpoint name (engines and relays); kept secret end to end. */
  readonly credentials: pulumi.Input<Readonly<Record<string, Credential>>>;
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
 * Every engine of a stack, rolled out `rollout.maxUnavailable` engines at a time: each batch
 * depends on the whole batch before it, so the first engine that fails stops the rollout there
 * and the engines after it are not touched in that run.
 */
export class Fleet extends pulumi.ComponentResource {
  public readonly engines: readonly EngineServer[];
  public readonly compliance: pulumi.Output<FleetCompliance>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mpshotfix:index:Fleet", name, {}, opts);
    const { plan } = args;
    const batchSize = plan.rollout.maxUnavailable;
    const total = plan.engines.length;
    const engines: EngineServer[] = [];
    plan.engines.forEach((engine, index) => {
      const previousBatch = engines.slice(
        Math.max(0, index - (index % batchSize) - batchSize),
        index - (index % batchSize),
      );
      engines.push(
        new EngineServer(
          `${name}-${engine.name.toLowerCase()}`,
          {
            engine,
            credentials: args.credentials,
            host: plan.host,
            rollout: plan.rollout,
            position: `${index + 1} of ${total}`,
            ...(args.adoptOnly === true ? { adoptOnly: true } : {}),
          },
          // The batches order the rollout; a preview changes nothing, so it need not wait for them.
          { parent: this, dependsOn: pulumi.runtime.isDryRun() ? [] : previousBatch },
        ),
      );
    });
    this.engines = engines;
    this.compliance = pulumi
      .all(
        engines.map((server, i) =>
          pulumi
            .all([server.compliant, server.compliance])
            .apply(([compliant, hotfixes]) => [plan.engines[i]!.name, { compliant, hotfixes }] as const),
        ),
      )
      .apply((entries) => ({
        engines: Object.fromEntries(entries),
        compliantEngines: entries.filter(([, e]) => e.compliant).length,
        totalEngines: total,
      }));
    this.registerOutputs({ compliance: this.compliance });
  }
}
