import { z } from "zod";
import { FileVersionText } from "../catalog/fileVersion";

/**
 * The inputs and the state of one HotfixOnEngine resource. The four desired-state keys
 * (fileVersions, engineState, comPlusState, restartPending) hold what is required in the inputs
 * and what was observed in the state, so the engine's own diff display reads
 * `Mapsproccntl.dll: "13.3.600.0" => "13.3.609.1"`.
 */
const Endpoint = z.strictObject({
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  user: z.string(),
  hostKey: z.string(),
});

export const RouteState = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("direct"), endpoint: Endpoint }),
  z.strictObject({ kind: z.literal("relay"), relay: Endpoint, engineHost: z.string() }),
]);

export const HotfixResourceInputs = z.strictObject({
  engine: z.string(),
  hotfixId: z.string(),
  route: RouteState,
  credentials: z.record(
    z.string(),
    z.strictObject({ password: z.string().optional(), privateKey: z.string().optional() }),
  ),
  target: z.strictObject({
    packageFile: z.string(),
    packagePath: z.string(),
    packageSha256: z.string(),
    binDir: z.string(),
    stagingDir: z.string(),
    comPlusApplication: z.string(),
    engineControlProgId: z.string(),
  }),
  settings: z.strictObject({
    connectTimeoutMs: z.number(),
    stepTimeoutMs: z.number(),
    complusShutdownTimeoutSeconds: z.number(),
    installAttempts: z.number(),
    installRetryDelayMs: z.number(),
    leaveFailedEngineOut: z.boolean(),
    /** "2 of 4": where this engine is in the rollout, for progress lines. */
    position: z.string(),
  }),
  /** Register what is deployed without changing the host (taking over an existing fleet). */
  adoptOnly: z.boolean().optional(),
  fileVersions: z.record(z.string(), z.union([FileVersionText, z.literal("missing")])),
  engineState: z.enum(["active", "deactivated"]),
  comPlusState: z.enum(["running", "stopped"]),
  restartPending: z.boolean(),
  /** State only: the file versions the observation was last held to (see `read`). */
  requiredFileVersions: z.record(z.string(), FileVersionText).optional(),
});
export type HotfixResourceInputs = z.infer<typeof HotfixResourceInputs>;

/** Reads provider inputs or state back with the schema; the `__provider` key belongs to Pulumi. */
export function parseResourceProps(what: string, props: unknown): HotfixResourceInputs {
  const { __provider: _ignored, ...rest } = (props ?? {}) as Record<string, unknown>;
  const result = HotfixResourceInputs.safeParse(rest);
  if (!result.success) {
    throw new Error(`${what}: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}
