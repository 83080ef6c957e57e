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
    name: EngineName.describe("The engine's name in Provisioning Manager; the key of its credentials."),
    host: HostName.describe("SSH host of the engine, or for a relayed engine the name WinRM reaches it by."),
    port: Port.optional().describe("The SSH port (22 when not given); not for a relayed engine."),
    user: UserName.optional().describe("The account that logs on over SSH; required unless the engine has a relay."),
    hostKey: HostKeyFingerprint.optional().describe(
      "The engine's pinned SSH key fingerprint, as `ssh-keygen -lf` prints it; give it or trustUnknownHostKey, unless the engine has a relay.",
    ),
    trustUnknownHostKey: z
      .literal(true)
      .optional()
      .describe("Accept whatever key the engine offers. Only for simulated fleets and labs; never the default."),
    relay: EngineName.optional().describe(
      "The relay (by name) that reaches this engine with Invoke-Command, for engines without SSH.",
    ),
    hotfixes: z
      .array(z.string())
      .min(1, "must name at least one hotfix (leave it out to use the fleet's list)")
      .optional()
      .describe("Hotfixes this engine must carry; the fleet's list when absent."),
    binDir: WindowsDirectory.optional().describe(
      "Where the MPS engine's binaries live on this engine, when not the fleet's host.binDir.",
    ),
    pool: PoolName.optional().describe(
      "The engines that serve the same clients (rollout.minInRotation counts per pool); one pool per stack without it.",
    ),
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
  path: z
    .string()
    .min(1)
    .describe("The package on the operator's machine, relative to the project directory or absolute."),
  sha256: Sha256Hex.describe(
    "Its SHA-256; the package is refused on the operator's machine and on the host when it differs.",
  ),
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
  maxUnavailable: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe("Engines patched at the same time; the rest of the fleet stays in rotation."),
  batches: z
    .array(BatchSize)
    .min(1, "must give at least one batch size")
    .optional()
    .describe(
      'Batch sizes in order, each a count of engines or a percentage of the fleet, the last one repeating ([1, 5, "25%"]: a canary of one engine, then five, then a quarter of the fleet at a time); replaces maxUnavailable when given.',
    ),
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
  engines: z
    .array(EngineConfig)
    .min(1, "must list at least one engine")
    .describe("The engine servers, each reached over SSH or through a relay."),
  relays: z
    .array(RelayConfig)
    .default([])
    .describe("Windows management hosts with OpenSSH that reach relayed engines over WinRM."),
  hotfixes: z
    .array(z.string())
    .min(1, "must name at least one hotfix")
    .default(["KB952089"])
    .describe("Hotfixes every engine must carry unless it lists its own."),
  packages: z
    .record(z.string(), PackageSource)
    .describe("Each hotfix's package, by hotfix id: where it is on the operator's machine and its SHA-256."),
  catalog: z
    .string()
    .min(1)
    .optional()
    .describe(
      "A catalog file to use instead of the built-in one, relative to the project directory or absolute; it replaces the built-in catalog.",
    ),
  minimumFileVersions: z
    .record(z.string(), FileVersionText)
    .default({})
    .describe("Raise a file's required version above the catalog's, by file name (\"or later\" still holds)."),
  rollout: RolloutSettings.default(RolloutSettings.parse({})).describe(
    "How the rollout goes: batches, failures, the change window, and each engine's timeouts and retries.",
  ),
  host: HostSettings.default(HostSettings.parse({})).describe(
    "Where MPS lives on the engines and how scripts reach its engine control and COM+ application.",
  ),
});
export type FleetConfig = z.infer<typeof FleetConfig>;
