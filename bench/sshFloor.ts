import type { FleetPlan } from "../components/config/fleetPlan";
import type { SshEndpoint } from "../components/domain/endpoint";
import type { EngineTarget } from "../components/domain/target";
import { decodeHostOutput, parseProbeAnswer } from "../components/host/answers";
import { invocationFor, type Invocation } from "../components/host/invocation";
import { hostScripts, probedFiles } from "../components/runbook/hostScripts";
import type { Client } from "ssh2";
import { connect, run } from "./sshClient";

/**
 * The floor of the work a preview does: one ssh2 connection per engine, all at once, each
 * running the product's probe as the product sends it (the bootstrap, the script on standard
 * input) and parsing the answer. No Pulumi, no provider, no state: what reading the fleet's file
 * versions costs at least.
 */

interface FloorResult {
  readonly ms: number;
  /** Engines whose answer reported exactly the expected version for every required file. */
  readonly matched: number;
}

/** The probe as the product sends it: the bootstrap command line, and the script on standard input. */
export function probeInvocation(engine: EngineTarget): Invocation {
  return invocationFor(hostScripts.probe(engine), { kind: "direct" });
}

/** Runs the product's probe over a bare connection and parses its answer as the product does. */
export async function probeOver(client: Client, engine: EngineTarget): Promise<Record<string, string>> {
  const invocation = probeInvocation(engine);
  const { text } = decodeHostOutput("probe", Buffer.from(await run(client, invocation.commandLine, invocation.stdin)));
  return parseProbeAnswer(text, probedFiles(engine)).files;
}

export function directEndpoint(engine: EngineTarget): SshEndpoint {
  if (engine.route.kind !== "direct") throw new Error(`${engine.engine}: the bench reaches direct engines only`);
  return engine.route.endpoint;
}

async function probeOne(engine: EngineTarget, password: string): Promise<Record<string, string>> {
  const client = await connect(directEndpoint(engine), password);
  try {
    return await probeOver(client, engine);
  } finally {
    client.end();
  }
}

/** Probes every engine of the plan in parallel; each file should read `expectVersion`. */
export async function measureFloor(plan: FleetPlan, password: string, expectVersion: string): Promise<FloorResult> {
  const started = performance.now();
  const answers = await Promise.all(plan.engines.map((engine) => probeOne(engine, password)));
  const ms = performance.now() - started;
  const matched = answers.filter((files) => Object.values(files).every((v) => v === expectVersion)).length;
  return { ms, matched };
}
