import { DriftReport } from "../../cli/driftReport";
import { notRespondingExitCode } from "../../cli/main";
import { cli, failedUp } from "./operatorCli";
import { kbFile, removeBackend, requiredVersion, scriptsOn, startScenario, type Scenario } from "./scenario";

/**
 * KB952089's symptom in sight, against the real engine and the simulated fleet: a COM+ component
 * that no longer answers is found by the probe's bounded wait, shown by preview and report, left
 * alone by up (the server needs a restart, which the product never does), and caught after an
 * engine is activated.
 */

const old = { [kbFile]: "13.3.600.0" };
const current = { [kbFile]: requiredVersion };

afterAll(() => removeBackend());

describe("engines that show the symptom", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario(
      "symptom",
      {
        engines: [
          { name: "MPS01", files: old },
          // Compliant, and wedged now.
          { name: "MPS02", files: current, complusResponding: false },
          // Drifted, and wedged now: up must not touch it.
          { name: "MPS03", files: old, complusResponding: false },
          // Drifted; its component stops answering once COM+ starts again after the install.
          { name: "MPS04", files: old, faults: { stopsRespondingOnStart: true } },
        ],
      },
      { fleet: { host: { responseTimeoutSeconds: 1 } }, rollout: { maxFailures: 5 } },
    );
    await scenario.up({ adoptOnly: true });
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  it("preview names the engines that do not respond, and exits 4", async () => {
    const result = await cli("preview", "--stack", scenario.stackName);
    expect(result.code).toBe(notRespondingExitCode);
    expect(result.stderr).toContain(
      "mps-hotfix: 2 engine(s) NOT RESPONDING: the COM+ component does not answer (KB952089's symptom); each server needs a restart, which mps-hotfix never does, and up leaves them untouched:\n  MPS02\n  MPS03\n",
    );
  });

  it("the JSON report marks them not-responding; needsWork follows their files", async () => {
    const result = await cli("report", "--stack", scenario.stackName, "--format", "json");
    expect(result.code).toBe(notRespondingExitCode);
    const report = DriftReport.parse(JSON.parse(result.stdout));
    const byEngine = Object.fromEntries(report.engines.map((e) => [e.engine, e]));
    expect(byEngine["MPS01"]).toMatchObject({ action: "runbook", needsWork: true, comPlusResponding: true });
    expect(byEngine["MPS02"]).toMatchObject({ action: "not-responding", needsWork: false, comPlusResponding: false });
    expect(byEngine["MPS03"]).toMatchObject({ action: "not-responding", needsWork: true, comPlusResponding: false });
    const markdown = await cli("report", "--stack", scenario.stackName);
    expect(markdown.stdout).toContain(
      "**2 engine(s) not responding (KB952089's symptom): the server needs a restart, which mps-hotfix never does:** MPS02, MPS03",
    );
  });

  it("up leaves a wedged engine untouched, fails the one that stops answering after activation, and restarts nothing", async () => {
    const record = await failedUp(scenario.stackName);
    expect(record.summary["patched"]).toEqual(["MPS01"]);
    expect(record.summary["already compliant"]).toEqual(["MPS02"]);
    expect(record.summary["failed"]).toEqual(["MPS03", "MPS04"]);
    expect(record.summary["NOT RESPONDING: the server needs a restart (KB952089's symptom)"]).toEqual([
      "MPS02",
      "MPS03",
      "MPS04",
    ]);
    // MPS03: only ever probed, never taken down.
    expect([...new Set(scriptsOn(scenario.sim, "MPS03"))]).toEqual(["probe"]);
    // MPS04: patched and activated, then check-response caught it; it is in rotation, and said so loudly.
    expect(scenario.sim.host("MPS04")).toMatchObject({
      files: current,
      engine: "active",
      complus: "running",
      complusResponding: false,
    });
    expect(record.output).toContain(
      "engine MPS04: step check-response failed: the COM+ component did not answer within 1s",
    );
    expect(record.output).toContain("ENGINE MPS04 IS IN ROTATION BUT DOES NOT RESPOND");
    expect(scenario.sim.host("MPS01")).toMatchObject({ files: current, complusResponding: true });
  });
});
