import { z } from "zod";
import { EngineName, HostKeyFingerprint, HostName, Port, UserName } from "./fields";

/**
 * One SSH hop: the host, who logs on, and how its key is checked. The same shape in the stack's
 * config (relays), the plan, the resource's inputs and state, and the SSH transport.
 */
export const SshEndpoint = z
  .strictObject({
    name: EngineName.describe("The host's name in this stack: the key of its credentials."),
    host: HostName.describe("The SSH host: a DNS name or an IPv4 address."),
    port: Port.default(22).describe("The SSH port."),
    user: UserName.describe(
      "The account that logs on (see docs/operator-guide.md, Setting up real hosts: the account).",
    ),
    hostKey: HostKeyFingerprint.optional().describe(
      "The host's SSH key fingerprint, as `ssh-keygen -lf` prints it; the connection is refused when the host offers another.",
    ),
    trustUnknownHostKey: z
      .literal(true)
      .optional()
      .describe("Accept whatever key the host offers. Only for simulated fleets and labs; never the default."),
  })
  .superRefine(requireOneHostKeyPolicy);
export type SshEndpoint = z.infer<typeof SshEndpoint>;

/** Exactly one of a pinned key or the explicit opt-out: an endpoint never trusts a key by default. */
export function requireOneHostKeyPolicy(
  value: { readonly hostKey?: string | undefined; readonly trustUnknownHostKey?: true | undefined },
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

/** How an engine is reached: straight over SSH, or over SSH to a relay that runs its scripts over WinRM. */
export const EngineRoute = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("direct"), endpoint: SshEndpoint }),
  z.strictObject({
    kind: z.literal("relay"),
    relay: SshEndpoint,
    /** The name WinRM reaches the engine by, from the relay. */
    engineHost: HostName,
  }),
]);
export type EngineRoute = z.infer<typeof EngineRoute>;

/** The SSH hop of a route: the engine itself, or its relay. */
export function sshHopOf(route: EngineRoute): SshEndpoint {
  return route.kind === "direct" ? route.endpoint : route.relay;
}

/** What logs a hop on: never printed, never part of an error message, never in a resource's state. */
export const Credential = z
  .strictObject({
    password: z.string().min(1, "is empty").optional(),
    privateKey: z.string().min(1, "is empty").optional(),
  })
  .refine((c) => c.password !== undefined || c.privateKey !== undefined, "needs a password or a privateKey");
export type Credential = z.infer<typeof Credential>;

/** Credentials by the hop's name in the stack (engines and relays). */
export const Credentials = z.record(z.string(), Credential);
export type Credentials = z.infer<typeof Credentials>;
