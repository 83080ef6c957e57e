import { z } from "zod";
import { requireOneHostKeyPolicy, SshEndpoint } from "../domain/endpoint";
import {
  EngineName,
  HostKeyFingerprint,
  HostName,
  Port,
  Sha256Hex,
  UserName,
  WindowsDirectory,
} from "../domain/fields";
import { FileVersionText } from "../domain/fileVersion";
import { PoolName, RolloutLimits } from "../domain/rollout";
import { HostSettings, MaintenanceSettings } from "../domain/target";

/** A management host with OpenSSH that reaches relayed engines over WinRM. */
export const RelayConfig = SshEndpoint;
export type RelayConfig = z.infer<typeof RelayConfig>;

export const EngineConfig = z
  .strictObject({
    /** The engine's name in Provisioning Manager. */
    name: EngineName,
    /** SSH host of the engine, or for a relayed engine the name WinRM reaches it by. */
    host: HostName,
    port: Port.optional(),
    user: UserName.optional(),
    hostKey: HostKeyFingerprint.optional(),
    trustUnknownHostKey: z.literal(true).optional(),
    /** The relay (by name) that reaches this engine with Invoke-Command, for engines without SSH. */
    relay: EngineName.optional(),
    /** Hotfixes this engine must carry; the fleet's list when absent. */
    hotfixes: z
      .array(z.string())
      .min(1, "must name at least one hotfix (leave it out to use the fleet's list)")
      .optional(),
    /** Where the MPS engine's binaries live on this engine, when not the fleet's binDir. */
    binDir: WindowsDirectory.optional(),
    /** The engines that serve the same clients (rollout.minInRotation counts per pool); one pool per stack without it. */
    pool: PoolName.optional(),
  })
  .superRefine((engine, ctx) => {
    if (engine.relay !== undefined) {
      for (const field of ["port", "user", "hostKey", "trustUnknownHostKey"] as const) {
        if (engine[field] !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [field],
            message: `does not apply to an engine reached through relay ${engine.relay}`,
          });
        }
      }
      return;
    }
    if (engine.user === undefined)
      ctx.addIssue({ code: "custom", path: ["user"], message: "is required for an engine reached over SSH" });
    requireOneHostKeyPolicy(engine, ctx);
  });
export type EngineConfig = z.infer<typeof EngineConfig>;

export const PackageSource = z.strictObject({
  /** The package on the operator's machine, relative to the project directory or absolute. */
  path: z.string().min(1),
  /** Its SHA-256; the package is refused on the operator's machine and on the host when it differs. */
  sha256: Sha256Hex,
});

/** A batch size: a count of engines, or a percentage of the fleet such as "25%". */
export const BatchSize = z.union([
  z.number().int().min(1),
  z
    .string()
    .regex(/^(100|[1-9][0-9]?)%$/, 'must be a count of engines or a percentage from 1% to 100%, such as "25%"')
    .transform((text) => text as `${number}%`),
]);

export const RolloutSettings = MaintenanceSettings.extend({
  ...RolloutLimits.shape,
  /** Engines patched at the same time; the rest of the fleet stays in rotation. */
  maxUnavailable: z.number().int().min(1).default(1),
  /**
   * Batch sizes in order, the last one repeating (`[1, 5, "25%"]`: a canary of one engine, then
   * five, then a quarter of the fleet at a time); replaces maxUnavailable when given.
   */
  batches: z.array(BatchSize).min(1, "must give at least one batch size").optional(),
});
export type RolloutSettings = z.infer<typeof RolloutSettings>;

/** The part of the rollout settings that each engine's maintenance is run with (its resource's `settings`). */
export function maintenanceSettingsOf(rollout: RolloutSettings): MaintenanceSettings {
  const {
    maxUnavailable: _size,
    batches: _batches,
    maxFailures: _failures,
    window: _window,
    minInRotation: _minInRotation,
    ...settings
  } = rollout;
  return settings;
}

export const FleetConfig = z.strictObject({
  engines: z.array(EngineConfig).min(1, "must list at least one engine"),
  relays: z.array(RelayConfig).default([]),
  /** Hotfixes every engine must carry unless it lists its own. */
  hotfixes: z.array(z.string()).min(1, "must name at least one hotfix").default(["KB952089"]),
  packages: z.record(z.string(), PackageSource),
  /** A catalog file to use instead of the built-in one, relative to the project directory or absolute. */
  catalog: z.string().min(1).optional(),
  /** Raise a file's required version above the catalog's ("or later" still holds). */
  minimumFileVersions: z.record(z.string(), FileVersionText).default({}),
  rollout: RolloutSettings.default(RolloutSettings.parse({})),
  host: HostSettings.default(HostSettings.parse({})),
});
export type FleetConfig = z.infer<typeof FleetConfig>;
