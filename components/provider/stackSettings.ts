import { z } from "zod";
import { Credentials, type Credential } from "../domain/endpoint";
import { defaultPool, RolloutLimits } from "../domain/rollout";

/** Config keys the handlers read from the stack's config, which `configure` receives whole. */
export const credentialsKey = "mps-hotfix:credentials";
export const fleetKey = "mps-hotfix:fleet";

const EngineOrder = z.object({ engines: z.array(z.object({ name: z.string(), pool: z.string().optional() })) });
const RolloutOfFleet = z.object({ rollout: RolloutLimits.default(RolloutLimits.parse({})) });

/**
 * What the handlers take from the stack's config instead of from resource inputs: each hop's
 * credentials (so no resource's inputs or state holds one, and rotating a password changes no
 * resource), where each engine stands in the stack's list (display only), and the rollout's
 * limits (maxFailures, window), which hold for the run as a whole rather than for one resource.
 */
export class StackSettings {
  private constructor(
    private readonly credentials: Credentials,
    private readonly engineOrder: readonly string[],
    /** Each engine's pool (rollout.minInRotation), by engine name. */
    private readonly pools: ReadonlyMap<string, string>,
    /** How far the rollout goes on past failed engines, and until when it starts engines. */
    readonly limits: RolloutLimits,
    /** Why the stack's credentials could not be read, when they could not. */
    private readonly credentialsProblem?: string,
  ) {}

  static empty(): StackSettings {
    return new StackSettings({}, [], new Map(), RolloutLimits.parse({}));
  }

  /** From `configure`'s config; a value that does not parse is reported when a hop needs it. */
  static from(get: (key: string) => string | undefined): StackSettings {
    const text = get(credentialsKey);
    const credentials = Credentials.safeParse(parseJson(text) ?? {});
    const fleet = parseJson(get(fleetKey));
    const order = EngineOrder.safeParse(fleet);
    const rollout = RolloutOfFleet.safeParse(fleet);
    const problem =
      text !== undefined && parseJson(text) === undefined
        ? "is not JSON"
        : credentials.success
          ? undefined
          : credentials.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    return new StackSettings(
      credentials.success ? credentials.data : {},
      order.success ? order.data.engines.map((e) => e.name) : [],
      new Map(order.success ? order.data.engines.map((e) => [e.name, e.pool ?? defaultPool]) : []),
      rollout.success ? rollout.data.rollout : RolloutLimits.parse({}),
      problem,
    );
  }

  /** The credential of one hop; a missing one is an error that names the config key. */
  credentialOf(hop: string): Credential {
    const credential: Credential | undefined = this.credentials[hop];
    if (credential !== undefined) return credential;
    const why =
      this.credentialsProblem === undefined ? "" : ` (the value could not be read: ${this.credentialsProblem})`;
    throw new Error(`no credentials for ${hop} in the stack's config ${credentialsKey}${why}`);
  }

  /** The engine's pool and every engine of it (the engine included); undefined for an engine the stack does not list. */
  poolOf(engine: string): { readonly pool: string; readonly members: readonly string[] } | undefined {
    const pool = this.pools.get(engine);
    if (pool === undefined) return undefined;
    return { pool, members: [...this.pools].filter(([, p]) => p === pool).map(([name]) => name) };
  }

  /** "2 of 4", or undefined for an engine the stack's list does not hold. */
  positionOf(engine: string): string | undefined {
    const index = this.engineOrder.indexOf(engine);
    return index < 0 ? undefined : `${index + 1} of ${this.engineOrder.length}`;
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
