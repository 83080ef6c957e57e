import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ansibleEnvironment, closeControlMasters, findAnsible, type AnsibleTools } from "../../bench/ansible";
import { stagePackages } from "../../bench/ansiblePeer";
import {
  inventoryYaml,
  parseRecap,
  probeHostVars,
  probePlaybook,
  upHostVars,
  upPlaybook,
  type HostRecap,
} from "../../bench/ansiblePlaybooks";
import {
  benchFile,
  benchHotfix,
  benchPassword,
  compliantVersion,
  driftedVersion,
  fleetPlan,
  simulatedFleet,
} from "../../bench/fleets";
import type { FleetPlan } from "../../components/config/fleetPlan";
import { startSimulatedFleet, type SimulatedFleet } from "../../simulator/server";
import { kbRunbookScripts } from "../support/kbRunbook";

/**
 * The Ansible peer's playbooks against simulated hosts, with the ansible-playbook on PATH: the
 * hosts accept every raw task's echo pipe (they refuse anything but the product's bootstrap on
 * the product's scripts) and the up converges. Skipped where Ansible, sshpass or ssh is not
 * installed (the bench then skips its Ansible columns).
 */
const found = findAnsible();
const describeWithAnsible = found.available ? describe : describe.skip;
if (!found.available) {
  process.stderr.write(
    `test/bench/ansibleOnSimulator.test.ts: skipped: ${found.missing.join(", ")} not on PATH (${found.install})\n`,
  );
}

/** Runs ansible-playbook as the bench does, without the sampler; the simulator shares this event loop. */
async function runPlaybook(
  tools: AnsibleTools,
  inventory: string,
  playbook: string,
): Promise<Record<string, HostRecap>> {
  const dir = mkdtempSync(join(tmpdir(), "mps-hotfix-test-ansible-"));
  const controlDir = join(dir, "cp");
  mkdirSync(controlDir);
  try {
    writeFileSync(join(dir, "inventory.yml"), inventory);
    writeFileSync(join(dir, "playbook.yml"), playbook);
    const child = spawn(tools.playbook, ["-i", "inventory.yml", "playbook.yml"], {
      cwd: dir,
      env: ansibleEnvironment(dir, controlDir),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    await new Promise((resolve) => child.once("close", resolve));
    return parseRecap(output);
  } finally {
    await closeControlMasters(tools.ssh, controlDir);
    rmSync(dir, { recursive: true, force: true });
  }
}

describeWithAnsible("the Ansible peer on simulated hosts", () => {
  const tools = found.available ? found.tools : undefined;
  let fleet: SimulatedFleet;
  let plan: FleetPlan;

  beforeAll(async () => {
    fleet = await startSimulatedFleet(simulatedFleet(2, driftedVersion));
    plan = fleetPlan("test-bench-ansible", fleet.hosts);
  });
  afterAll(async () => {
    await fleet.stop();
  });

  test("the probe fails exactly on the drifted engines", async () => {
    const probe = (): Promise<Record<string, HostRecap>> =>
      runPlaybook(tools!, inventoryYaml(plan, benchPassword, probeHostVars), probePlaybook());
    expect(Object.values(await probe()).map((h) => [h.failed, h.unreachable])).toEqual([
      [1, 0],
      [1, 0],
    ]);
    fleet.alter("BENCH002", { files: { [benchFile]: compliantVersion } });
    expect(Object.entries(await probe()).map(([host, h]) => [host, h.failed])).toEqual([
      ["BENCH001", 1],
      ["BENCH002", 0],
    ]);
    expect(fleet.log().filter((r) => r.script === "rejected-command")).toEqual([]);
  });

  test("the up, after the bench staged the package, brings every engine to the catalog's version", async () => {
    for (const name of ["BENCH001", "BENCH002"]) fleet.alter(name, { files: { [benchFile]: driftedVersion } });
    await stagePackages(plan);
    const before = fleet.log().length;
    const recap = await runPlaybook(
      tools!,
      inventoryYaml(plan, benchPassword, (engine) => upHostVars(engine, plan.rollout, new Date())),
      upPlaybook([benchHotfix], 1),
    );
    expect(Object.values(recap).map((h) => [h.failed, h.unreachable])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    const scripts = fleet
      .log()
      .slice(before)
      .filter((r) => r.host === "BENCH001" && r.script !== "connect")
      .map((r) => r.script);
    expect(scripts).toEqual(kbRunbookScripts.filter((s) => s !== "stage-package"));
    for (const name of ["BENCH001", "BENCH002"]) {
      expect(fleet.host(name)).toMatchObject({
        files: { [benchFile]: compliantVersion },
        engine: "active",
        complus: "running",
        restartPending: false,
      });
    }
  });
});
