#!/usr/bin/env node
import "./compileCache";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { loadFleetFile } from "../simulator/fleetFile";
import { startSimulatedFleet, type SimulatedFleet } from "../simulator/server";
import { engineOf, hotfixSteps } from "./hotfixSteps";
import { managesEngines } from "./stackPlan";
import { openStack, previewFleet, upFleet } from "./workspace";
import { projectRoot } from "./projectRoot";

/**
 * The demo: start the simulated fleet of stacks/Pulumi.demo.yaml, adopt it if the stack does not
 * manage it yet, preview (drift on the two old engines), up (the runbook, one engine at a time),
 * preview again (no changes), stop the fleet.
 */
const stackName = "demo";
const fleetFile = join(projectRoot, "simulator", "fleets", "demo.yaml");

const print = (text: string): void => void process.stdout.write(text);
const heading = (text: string): void => print(`\n=== ${text}\n\n`);

async function demo(fleet: SimulatedFleet): Promise<void> {
  print(`Simulated fleet (${fleetFile}):\n`);
  for (const host of fleet.hosts) print(`  ${host.name}  ${host.address}:${host.port}  ${host.hostKeySha256}\n`);

  if (!(await managesEngines(await openStack({ stackName })))) {
    heading("adopt: record what each engine has, changing nothing (the stack does not manage them yet)");
    await upFleet(await openStack({ stackName, adoptOnly: true }), { onOutput: print });
  }

  const stack = await openStack({ stackName });
  heading("preview: which engines are older than required");
  const events: EngineEvent[] = [];
  await previewFleet(stack, { diff: true, onOutput: print, onEvent: (e) => events.push(e) });
  const drifted = hotfixSteps(events)
    .filter((step) => step.op === "update")
    .map((step) => engineOf(step))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  print(`\n${drifted.length} of ${fleet.hosts.length} engines need work: ${drifted.join(", ") || "none"}\n`);

  heading("up: the KB952089 runbook, one engine at a time");
  const up = await upFleet(stack, { onOutput: print });
  print(
    `\ncompliant engines: ${String(up.outputs["compliantEngines"]?.value)} of ${String(up.outputs["totalEngines"]?.value)}\n`,
  );

  heading("preview again: nothing left to change");
  await previewFleet(stack, { expectNoChanges: true, onOutput: print });
  const wedged = fleet.hosts.filter((h) => h.kind === "engine" && !fleet.host(h.name).complusResponding);
  if (wedged.length > 0) throw new Error(`COM+ not responding on ${wedged.map((h) => h.name).join(", ")}`);
  print("\nEvery engine is compliant, in rotation, with its COM+ application running and responding.\n");
}

async function main(): Promise<number> {
  const fleet = await startSimulatedFleet(loadFleetFile(fleetFile));
  try {
    await demo(fleet);
    return 0;
  } finally {
    await fleet.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
