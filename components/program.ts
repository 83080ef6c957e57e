import * as pulumi from "@pulumi/pulumi";
import { FleetConfigError, planFleet, type FleetPlan } from "./config/fleetPlan";
import { Fleet, type FleetCompliance } from "./fleet";

export interface FleetProgramOptions {
  /** Where relative package paths in the stack start: the project directory. */
  readonly projectDir: string;
  /** Register what each engine has without changing any host (see `mps-hotfix adopt`). */
  readonly adoptOnly?: boolean;
  /** Called with the validated plan before any resource is declared (the CLI's end summary uses it). */
  readonly onPlan?: (plan: FleetPlan) => void;
  /** Called with what is wrong with the stack's input, just before the program throws it (InvalidStackError). */
  readonly onRefused?: (error: FleetConfigError) => void;
}

export interface FleetProgramOutputs {
  readonly compliance: pulumi.Output<FleetCompliance>;
  readonly compliantEngines: pulumi.Output<number>;
  readonly totalEngines: pulumi.Output<number>;
}

/**
 * Bad stack input, as the engine shows it: a RunError, which the SDK prints once, without a stack
 * trace (bad input is the operator's to fix, not a bug). `cause` holds every problem.
 */
export class InvalidStackError extends pulumi.RunError {
  constructor(override readonly cause: FleetConfigError) {
    super(cause.message);
    this.name = "InvalidStackError";
  }
}

/** Whether a config key is stored as a secret; the Node SDK keeps this check internal. */
function isSecretConfig(key: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
  if (typeof runtimeConfig.isConfigSecret !== "function") {
    throw new Error("this @pulumi/pulumi version cannot tell secret config apart; pin the version in package.json");
  }
  return runtimeConfig.isConfigSecret(key);
}

/**
 * The program: read and validate the stack's fleet before any resource exists (so bad input never
 * reaches a host), then declare the fleet. Used by index.ts and, inline, by the mps-hotfix CLI.
 */
export function fleetProgram(options: FleetProgramOptions): () => Promise<FleetProgramOutputs> {
  return async () => {
    const config = new pulumi.Config("mps-hotfix");
    const rawCredentials = config.getObject<unknown>("credentials");
    let plan: FleetPlan;
    try {
      plan = planFleet({
        stack: pulumi.getStack(),
        fleet: config.getObject<unknown>("fleet"),
        credentials: rawCredentials,
        credentialsAreSecret: rawCredentials === undefined || isSecretConfig("mps-hotfix:credentials"),
        baseDir: options.projectDir,
      });
    } catch (error) {
      if (!(error instanceof FleetConfigError)) throw error;
      options.onRefused?.(error);
      throw new InvalidStackError(error);
    }
    options.onPlan?.(plan);
    const fleet = new Fleet("fleet", { plan, ...(options.adoptOnly === true ? { adoptOnly: true } : {}) });
    return Promise.resolve({
      compliance: fleet.compliance,
      compliantEngines: fleet.compliance.apply((c) => c.compliantEngines),
      totalEngines: fleet.compliance.apply((c) => c.totalEngines),
    });
  };
}
