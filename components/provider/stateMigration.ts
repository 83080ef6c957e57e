import { z } from "zod";
import { parseFileVersion } from "../domain/fileVersion";
import type { EngineRoute, SshEndpoint } from "../domain/endpoint";
import type { RequiredFiles } from "../domain/requirement";
import type { EngineTarget } from "../domain/target";
import { EngineHotfixesState, stateSchemaVersion } from "./resourceState";

/**
 * The state release 0.1 wrote: one HotfixOnEngine resource per engine and hotfix, with no schema
 * version. Read loosely (only what a migration needs), so that its refresh and its next up work
 * with no manual step; the resource is aliased to the engine's EngineHotfixes (engineServer.ts).
 */
const LegacyEndpoint = z.object({
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  user: z.string(),
  hostKey: z.string(),
});

const LegacyHotfixState = z.object({
  engine: z.string(),
  hotfixId: z.string(),
  route: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("direct"), endpoint: LegacyEndpoint }),
    z.object({ kind: z.literal("relay"), relay: LegacyEndpoint, engineHost: z.string() }),
  ]),
  target: z.object({
    packageFile: z.string(),
    packagePath: z.string(),
    packageSha256: z.string(),
    binDir: z.string(),
    stagingDir: z.string(),
    comPlusApplication: z.string(),
    engineControlProgId: z.string(),
  }),
  settings: z.object({
    connectTimeoutMs: z.number(),
    stepTimeoutMs: z.number(),
    complusShutdownTimeoutSeconds: z.number(),
    installAttempts: z.number(),
    installRetryDelayMs: z.number(),
    leaveFailedEngineOut: z.boolean(),
  }),
  fileVersions: z.record(z.string(), z.string()),
  engineState: z.string(),
  comPlusState: z.string(),
  restartPending: z.boolean(),
  requiredFileVersions: z.record(z.string(), z.string()).optional(),
});
type LegacyHotfixState = z.infer<typeof LegacyHotfixState>;

function endpointOf(legacy: z.infer<typeof LegacyEndpoint>): SshEndpoint {
  const { hostKey, ...rest } = legacy;
  return hostKey === "trust-unknown" ? { ...rest, trustUnknownHostKey: true } : { ...rest, hostKey };
}

function routeOf(legacy: LegacyHotfixState["route"]): EngineRoute {
  return legacy.kind === "direct"
    ? { kind: "direct", endpoint: endpointOf(legacy.endpoint) }
    : { kind: "relay", relay: endpointOf(legacy.relay), engineHost: legacy.engineHost };
}

/** Release 0.1's state in this release's shape (what a refresh of it records). */
function migrateLegacy(legacy: LegacyHotfixState): unknown {
  const { hotfixId: id, target, settings } = legacy;
  return {
    schemaVersion: stateSchemaVersion,
    engine: legacy.engine,
    route: routeOf(legacy.route),
    host: {
      binDir: target.binDir,
      stagingDir: target.stagingDir,
      comPlusApplication: target.comPlusApplication,
      engineControlProgId: target.engineControlProgId,
    },
    packages: [{ hotfix: id, file: target.packageFile, path: target.packagePath, sha256: target.packageSha256 }],
    settings: {
      leaveFailedEngineOut: settings.leaveFailedEngineOut,
      connectTimeoutSeconds: Math.ceil(settings.connectTimeoutMs / 1000),
      stepTimeoutSeconds: Math.ceil(settings.stepTimeoutMs / 1000),
      complusShutdownTimeoutSeconds: settings.complusShutdownTimeoutSeconds,
      installAttempts: settings.installAttempts,
      installRetryDelaySeconds: settings.installRetryDelayMs / 1000,
    },
    files: { [id]: legacy.fileVersions },
    engineState: legacy.engineState,
    comPlusState: legacy.comPlusState,
    restartPending: legacy.restartPending,
    ...(legacy.requiredFileVersions !== undefined ? { required: { [id]: legacy.requiredFileVersions } } : {}),
  };
}

export class StateError extends Error {
  override readonly name = "StateError";
}

/** A stored state of any release, in this release's shape; `__provider` belongs to Pulumi. */
export function readStoredState(engine: string, props: unknown): EngineHotfixesState {
  const { __provider: _provider, ...stored } = (props ?? {}) as Record<string, unknown>;
  const version = stored["schemaVersion"];
  let current: unknown = stored;
  if (version === undefined) {
    const legacy = LegacyHotfixState.safeParse(stored);
    if (!legacy.success) {
      throw new StateError(
        `engine ${engine}: the stored state is of no known release: ${z.prettifyError(legacy.error)}`,
      );
    }
    current = migrateLegacy(legacy.data);
  } else if (typeof version !== "number" || version > stateSchemaVersion) {
    throw new StateError(
      `engine ${engine}: the stored state has schema version ${JSON.stringify(version)}, this release reads up to ${stateSchemaVersion}; use a newer mps-hotfix`,
    );
  }
  const state = EngineHotfixesState.safeParse(current);
  if (!state.success) throw new StateError(`engine ${engine}: stored state: ${z.prettifyError(state.error)}`);
  return state.data;
}

/** The requirement a stored state was last held to, or else its observation read as one (for the probe). */
export function requirementOfState(state: EngineHotfixesState): EngineTarget["files"] {
  if (state.required !== undefined) return state.required;
  return Object.fromEntries(
    Object.entries(state.files).map(([id, files]): [string, RequiredFiles] => [
      id,
      Object.fromEntries(
        Object.entries(files).map(([name, v]) => [name, parseFileVersion(v) !== undefined ? v : "0.0.0.0"]),
      ),
    ]),
  );
}
