import { z } from "zod";
import { catalog as defaultCatalog, type HotfixCatalog, type HotfixEntry } from "../catalog/catalog";
import { FileVersionText } from "../catalog/fileVersion";
import {
  ComPlusApplicationName,
  EngineName,
  HostKeyFingerprint,
  HostName,
  Port,
  ProgId,
  Sha256Hex,
  UserName,
  WindowsDirectory,
} from "./fields";

/** How the product checks a host's SSH key: a pinned fingerprint, or an explicit opt-out. */
const hostKeyFields = {
  /** The host's SSH key fingerprint; the connection is refused when the host offers another. */
  hostKey: HostKeyFingerprint.optional(),
  /** Accept whatever key the host offers. Only for simulated fleets and labs; never the default. */
  trustUnknownHostKey: z.literal(true).optional(),
};

function requireOneHostKeyPolicy(
  value: { hostKey?: string | undefined; trustUnknownHostKey?: true | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((value.hostKey === undefined) === (value.trustUnknownHostKey === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["hostKey"],
      message: "give exactly one of hostKey (the pinned SHA256 fingerprint) or trustUnknownHostKey: true",
    });
  }
}

export const RelayConfig = z
  .strictObject({
    /** The management host's name in this stack (the key of its credentials). */
    name: EngineName,
    host: HostName,
    port: Port.default(22),
    user: UserName,
    ...hostKeyFields,
  })
  .superRefine(requireOneHostKeyPolicy);
export type RelayConfig = z.infer<typeof RelayConfig>;

export const EngineConfig = z
  .strictObject({
    /** The engine's name in Provisioning Manager. */
    name: EngineName,
    /** SSH host of the engine, or for a relayed engine the name WinRM reaches it by. */
    host: HostName,
    port: Port.optional(),
    user: UserName.optional(),
    ...hostKeyFields,
    /** The relay (by name) that reaches this engine with Invoke-Command, for engines without SSH. */
    relay: EngineName.optional(),
    /** Hotfixes this engine must carry; the fleet's list when absent. */
    hotfixes: z
      .array(z.string())
      .min(1, "must name at least one hotfix (leave it out to use the fleet's list)")
      .optional(),
    /** Where the MPS engine's binaries live on this engine, when not the fleet's binDir. */
    binDir: WindowsDirectory.optional(),
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

export const RolloutSettings = z.strictObject({
  /** Engines patched at the same time; the rest of the fleet stays in rotation. */
  maxUnavailable: z.number().int().min(1).default(1),
  /** Leave an engine deactivated when its install fails, instead of putting it back into rotation. */
  leaveFailedEngineOut: z.boolean().default(false),
  connectTimeoutSeconds: z.number().int().min(1).max(600).default(20),
  /**
   * Upper bound for any one step on a host; a host that stops answering ends the run. The COM+
   * shutdown step may take up to complusShutdownTimeoutSeconds + 30 s when that is longer.
   */
  stepTimeoutSeconds: z.number().int().min(1).max(7200).default(600),
  complusShutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
  /** msiexec attempts while another installation is running (exit code 1618). */
  installAttempts: z.number().int().min(1).max(20).default(4),
  installRetryDelaySeconds: z.number().min(0).max(600).default(15),
});
export type RolloutSettings = z.infer<typeof RolloutSettings>;

export const HostSettings = z.strictObject({
  binDir: WindowsDirectory.default("C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin"),
  stagingDir: WindowsDirectory.default("C:\\Windows\\Temp\\mps-hotfix"),
  comPlusApplication: ComPlusApplicationName.default("Provisioning Engine"),
  /** The COM object through which scripts activate and deactivate the engine (see README: engine control). */
  engineControlProgId: ProgId.default("Provisioning.EngineControl"),
});
export type HostSettings = z.infer<typeof HostSettings>;

export const FleetConfig = z.strictObject({
  engines: z.array(EngineConfig).min(1, "must list at least one engine"),
  relays: z.array(RelayConfig).default([]),
  /** Hotfixes every engine must carry unless it lists its own. */
  hotfixes: z.array(z.string()).min(1, "must name at least one hotfix").default(["KB952089"]),
  packages: z.record(z.string(), PackageSource),
  /** Raise a file's required version above the catalog's ("or later" still holds). */
  minimumFileVersions: z.record(z.string(), FileVersionText).default({}),
  rollout: RolloutSettings.default(RolloutSettings.parse({})),
  host: HostSettings.default(HostSettings.parse({})),
});
export type FleetConfig = z.infer<typeof FleetConfig>;

export const Credential = z
  .strictObject({
    password: z.string().min(1, "is empty").optional(),
    privateKey: z.string().min(1, "is empty").optional(),
  })
  .refine((c) => c.password !== undefined || c.privateKey !== undefined, "needs a password or a privateKey");
export type Credential = z.infer<typeof Credential>;

export const Credentials = z.record(z.string(), Credential);
export type Credentials = z.infer<typeof Credentials>;

export type { HotfixCatalog, HotfixEntry };
export { defaultCatalog };
