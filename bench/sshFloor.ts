import type { EnginePlan, FleetPlan } from "../components/config/fleetPlan";
import { parseProbeAnswer } from "../components/host/answers";
import { commandLineFor } from "../components/host/scripts";
import { hostScripts } from "../components/runbook/hostScripts";
import type { HotfixTarget } from "../components/runbook/target";
import { connect, run } from "./sshClient";

/**
 * The floor of the work a preview does: one ssh2 connection per engine, all at once, each
 * running the product's exact probe command line and parsing the answer. No Pulumi, no
 * provider, no state: what reading the fleet's file versions costs at least.
 */

interface FloorResult {
  readonly ms: number;
  /** Engines whose answer reported exactly the expected version for every required file. */
  readonly matched: number;
}

/** The probe's target for an engine's first hotfix, as EngineServer builds it for the provider. */
function probeTarget(plan: FleetPlan, engine: EnginePlan): HotfixTarget {
  const requirement = engine.hotfixes[0]!;
  return {
    engineName: engine.name,
    hotfixId: requirement.hotfix.id,
    packageFile: requirement.hotfix.packageFile,
    packagePath: requirement.packagePath,
    packageSha256: requirement.packageSha256,
    requiredVersions: Object.fromEntries(requirement.files.map((f) => [f.name, f.version])),
    binDir: engine.binDir,
    stagingDir: plan.host.stagingDir,
    comPlusApplication: plan.host.comPlusApplication,
    engineControlProgId: plan.host.engineControlProgId,
  };
}

/** The exact command line the product sends for an engine's probe. */
export function probeCommandLine(plan: FleetPlan, engine: EnginePlan): string {
  return commandLineFor(hostScripts.probe(probeTarget(plan, engine)), { kind: "direct" });
}

export function directEndpoint(engine: EnginePlan): Extract<EnginePlan["route"], { kind: "direct" }>["endpoint"] {
  if (engine.route.kind !== "direct") throw new Error(`${engine.name}: the bench reaches direct engines only`);
  return engine.route.endpoint;
}

async function probeOne(plan: FleetPlan, engine: EnginePlan, password: string): Promise<Record<string, string>> {
  const client = await connect(directEndpoint(engine), password);
  try {
    const files = Object.keys(probeTarget(plan, engine).requiredVersions);
    return parseProbeAnswer(await run(client, probeCommandLine(plan, engine)), files).files;
  } finally {
    client.end();
  }
}

/** Probes every engine of the plan in parallel; each file should read `expectVersion`. */
export async function measureFloor(plan: FleetPlan, password: string, expectVersion: string): Promise<FloorResult> {
  const started = performance.now();
  const answers = await Promise.all(plan.engines.map((engine) => probeOne(plan, engine, password)));
  const ms = performance.now() - started;
  const matched = answers.filter((files) => Object.values(files).every((v) => v === expectVersion)).length;
  return { ms, matched };
}
