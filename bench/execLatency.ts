import type { FleetPlan } from "../components/config/fleetPlan";
import { connect } from "./sshClient";
import { directEndpoint, probeOver } from "./sshFloor";

/**
 * What one script costs on a session that already ran one, as the runbook's later steps do:
 * the product's probe sent `execs` times in a row over one connection, with Nagle's
 * algorithm on (as sessions were before the product set TCP_NODELAY) and off (as the product's
 * SshSession now leaves the socket). The first exec of each connection is not counted: it never
 * waits behind an unacknowledged packet.
 */
export interface ExecLatency {
  readonly execs: number;
  /** Mean milliseconds per exec after the first, with Nagle's algorithm on (the socket's default). */
  readonly nagleMs: number;
  /** The same with TCP_NODELAY on the client socket, as the product's SshSession sets it. */
  readonly noDelayMs: number;
}

async function meanExecMs(plan: FleetPlan, password: string, execs: number, noDelay: boolean): Promise<number> {
  const engine = plan.engines[0]!;
  const client = await connect(directEndpoint(engine), password);
  try {
    if (noDelay) client.setNoDelay(true);
    await probeOver(client, engine);
    const started = performance.now();
    for (let i = 1; i < execs; i++) await probeOver(client, engine);
    return (performance.now() - started) / (execs - 1);
  } finally {
    client.end();
  }
}

export async function measureExecLatency(plan: FleetPlan, password: string, execs = 9): Promise<ExecLatency> {
  return {
    execs,
    nagleMs: await meanExecMs(plan, password, execs, false),
    noDelayMs: await meanExecMs(plan, password, execs, true),
  };
}
