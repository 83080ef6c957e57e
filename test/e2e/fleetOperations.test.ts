import { hotfixSteps, unreachableReason } from "../../cli/hotfixSteps";
import { DriftReport } from "../../cli/driftReport";
import { incompleteExitCode } from "../../cli/main";
import { inRotation } from "../../components/domain/observation";
import { cli, failedUp } from "./operatorCli";
import { kbFile, removeBackend, requiredVersion, startScenario, type FleetInput, type Scenario } from "./scenario";

/**
 * Fleet operations against the real engine and the simulated fleet: a dead host never blinds
 * the fleet, and the rollout controls (ramped batches, a failure threshold, a change window).
 */

const old = { [kbFile]: "13.3.600.0" };
const engineNames = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `MPS${String(i + 1).padStart(2, "0")}`);

afterAll(() => removeBackend());

describe("one engine of five switched off", () => {
  let scenario: Scenario;
  const current = { [kbFile]: requiredVersion };
  const fleet: FleetInput = {
    engines: [
      { name: "MPS01", files: old },
      { name: "MPS02", files: old },
      { name: "MPS03", files: current },
      { name: "MPS04", files: old, faults: { refuseConnections: true } },
      { name: "MPS05", files: current },
    ],
  };

  beforeAll(async () => {
    scenario = await startScenario("down", fleet, { rollout: { connectRetryDelaySeconds: 0.1 } });
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  it("adopt completes for every other engine and registers the dead one as never read", async () => {
    const adopt = await scenario.up({ adoptOnly: true });
    expect(Object.keys(adopt.steps)).toHaveLength(5);
    expect(adopt.output).toMatch(
      /\[MPS04\] UNREACHABLE: cannot connect to MPS04 .*connection refused; registered as never read/,
    );
  });

  it("preview still shows every other engine's drift, shows the dead one as unreachable with the reason, and exits 3", async () => {
    const result = await cli("preview", "--stack", scenario.stackName);
    expect(result.code).toBe(incompleteExitCode);
    expect(result.stderr).toContain(
      "mps-hotfix: 1 engine(s) could not be reached; the picture is incomplete (exit 3):\n  MPS04: cannot connect to MPS04",
    );
    expect(result.stdout).toContain(`~ Mapsproccntl.dll: "13.3.600.0" => "${requiredVersion}"`);
    expect(result.stdout).toMatch(
      /- unreachable {3}: "cannot connect to MPS04 \(127\.0\.0\.1:\d+\): connection refused"/,
    );

    const preview = await scenario.preview();
    expect(preview.steps).toEqual({
      "fleet-mps01-hotfixes": "update",
      "fleet-mps02-hotfixes": "update",
      "fleet-mps03-hotfixes": "same",
      "fleet-mps04-hotfixes": "update",
      "fleet-mps05-hotfixes": "same",
    });
    const down = hotfixSteps(preview.events).find((s) => s.name === "fleet-mps04-hotfixes")!;
    expect(unreachableReason(down)).toMatch(/^cannot connect to MPS04 \(127\.0\.0\.1:\d+\): connection refused$/);
  });

  it("the JSON report lists the unreachable engine with its reason and needsWork, and exits 3", async () => {
    const result = await cli("report", "--stack", scenario.stackName, "--format", "json");
    expect(result.code).toBe(incompleteExitCode);
    // The handlers' lines go to stderr, beside the report on stdout.
    expect(result.stderr).toContain("[MPS04 4 of 5] connect attempt 1 of 3 failed (cannot connect to MPS04");
    const report = DriftReport.parse(JSON.parse(result.stdout));
    const byEngine = Object.fromEntries(report.engines.map((e) => [e.engine, e]));
    expect(byEngine["MPS04"]).toMatchObject({ action: "unreachable", needsWork: true });
    expect(byEngine["MPS04"]!.unreachable).toMatch(/connection refused$/);
    expect(byEngine["MPS03"]).toMatchObject({ action: "none", needsWork: false, unreachable: null });
    expect(byEngine["MPS01"]).toMatchObject({ action: "runbook", needsWork: true, unreachable: null });
    expect(report.summary["KB952089"]).toEqual({ needWork: 3, engines: 5 });
  });

  it("up never starts a maintenance on it and counts it as failed; destroy works with it down", async () => {
    const record = await failedUp(scenario.stackName);
    expect(record.summary).toEqual({
      patched: ["MPS01", "MPS02"],
      "already compliant": ["MPS03"],
      failed: ["MPS04"],
      "skipped: the rollout halted before them": ["MPS05"],
    });
    expect(scenario.sim.log().filter((r) => r.host === "MPS04")).toEqual([]);
    // Connecting was retried, bounded, with a line per retry; then the engine counted as failed.
    expect(record.output).toContain("[MPS04 4 of 5] connect attempt 1 of 3 failed (cannot connect to MPS04");
    expect(record.output).toContain("[MPS04 4 of 5] connect attempt 2 of 3 failed");
    expect(record.output).not.toContain("connect attempt 3 of 3");
    // The failed up keeps the stack's outputs (those of the adopt, the last complete run), and says so.
    const stack = await scenario.stack();
    const outputs = await stack.outputs();
    expect(outputs["totalEngines"]?.value).toBe(5);
    expect(outputs["compliantEngines"]?.value).toBe(2);
    expect(record.output).toContain(
      "mps-hotfix: the stack's outputs are kept as the last complete run left them (2 of 5 engines compliant then)",
    );
    await stack.destroy();
    const state = await stack.exportStack();
    expect((state.deployment as { resources?: unknown[] }).resources ?? []).toEqual([]);
  });
});

describe('a 60-engine rollout with batches [1, 5, "25%"] and maxFailures 2, three engines failing', () => {
  let scenario: Scenario;
  const failing = new Set(["MPS03", "MPS10", "MPS20"]);

  beforeAll(async () => {
    scenario = await startScenario(
      "ramp",
      {
        engines: engineNames(60).map((name) => ({
          name,
          files: old,
          ...(failing.has(name) ? { faults: { installExitCodes: [1603] } } : {}),
        })),
      },
      { rollout: { batches: [1, 5, "25%"], maxFailures: 2 } },
    );
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  it("goes on past two failed engines, halts after the batch with the third, skips the rest; every engine is in rotation; the run fails", async () => {
    const record = await failedUp(scenario.stackName);
    // Batches: MPS01 | MPS02-06 | MPS07-21 | MPS22-36 | ...; the third failure is in the third batch.
    expect(record.summary["failed"]).toEqual(["MPS03", "MPS10", "MPS20"]);
    expect(record.summary["patched"]).toEqual(engineNames(21).filter((e) => !failing.has(e)));
    expect(record.summary["skipped: the rollout halted before them"]).toEqual(engineNames(60).slice(21));
    expect(record.output).toContain("the rollout halts: 3 engine(s) failed");
    for (const name of engineNames(60)) {
      const host = scenario.sim.host(name);
      expect({ name, engine: host.engine, complus: host.complus }).toEqual({
        name,
        engine: inRotation.engineState,
        complus: inRotation.comPlusState,
      });
    }
    // The batches ran in order: no engine of a batch started before the batch before it ended.
    const firstStep = (name: string): number =>
      scenario.sim.log().find((r) => r.host === name && r.script === "probe")!.seq;
    const lastStep = (name: string): number =>
      Math.max(
        ...scenario.sim
          .log()
          .filter((r) => r.host === name)
          .map((r) => r.seq),
      );
    expect(firstStep("MPS02")).toBeGreaterThan(lastStep("MPS01"));
    for (const second of engineNames(6).slice(1)) {
      for (const third of engineNames(21).slice(6)) expect(firstStep(third)).toBeGreaterThan(lastStep(second));
    }
  });
});

describe("maxFailures lets the rollout finish, and the run still fails", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario(
      "onefail",
      {
        engines: engineNames(3).map((name) => ({
          name,
          files: old,
          ...(name === "MPS02" ? { faults: { installExitCodes: [1603] } } : {}),
        })),
      },
      { rollout: { maxFailures: 1 } },
    );
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  it("patches the engines after the failed one; the RolloutResult fails the run and names it", async () => {
    const record = await failedUp(scenario.stackName);
    expect(record.summary).toMatchObject({ patched: ["MPS01", "MPS03"], failed: ["MPS02"] });
    expect(record.summary["skipped: the rollout halted before them"]).toEqual([]);
    expect(record.output).toContain(
      "the rollout did not bring every engine to the requirement: 1 engine(s) failed (MPS02)",
    );
    // The next preview still shows the failed engine's drift, and nothing else.
    const preview = await scenario.preview();
    expect(preview.steps).toEqual({
      "fleet-mps01-hotfixes": "same",
      "fleet-mps02-hotfixes": "update",
      "fleet-mps03-hotfixes": "same",
    });
  });
});

describe("a change window that closes mid-rollout", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario("window", {
      stepDelaysMs: { "install-package": 8000 },
      engines: engineNames(4).map((name) => ({ name, files: old })),
    });
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  it("starts no engine after the window has closed, lets the one in maintenance finish, and reports the rest as skipped", async () => {
    await scenario.up({ adoptOnly: true });
    scenario.fleetConfig = {
      ...scenario.fleetConfig,
      rollout: {
        ...(scenario.fleetConfig["rollout"] as Record<string, unknown>),
        // 12 s from the run's first maintenance: the first engine's takes 8 s and more, the second
        // starts before the window closes and the third after.
        window: { minutes: 0.2 },
      },
    };
    await scenario.applyConfig();
    const record = await failedUp(scenario.stackName);
    const patched = record.summary["patched"] ?? [];
    const windowClosed = record.summary["skipped: the change window had closed (rollout.window)"] ?? [];
    expect(patched.length).toBeGreaterThanOrEqual(1);
    expect(windowClosed.length).toBeGreaterThanOrEqual(1);
    expect([...patched, ...windowClosed]).toEqual(engineNames(4));
    expect(record.summary["failed"]).toEqual([]);
    for (const name of windowClosed) {
      expect(scenario.sim.log().filter((r) => r.host === name && r.script === "deactivate-engine")).toEqual([]);
    }
    for (const name of patched) expect(scenario.sim.host(name).files[kbFile]).toBe(requiredVersion);
    expect(record.output).toContain("the change window closed at");
    expect(record.output).toContain("were not started");
  });
});
