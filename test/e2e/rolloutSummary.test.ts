import { cli, summaryOf } from "./operatorCli";
import { kbFile, removeBackend, requiredVersion, startScenario, type Scenario } from "./scenario";

/**
 * `mps-hotfix up`'s end summary and last line, against the real engine and the simulated fleet:
 * what each engine is called comes from what happened to it, not from the engine's step kind.
 */

const old = { [kbFile]: "13.3.600.0" };
const current = { [kbFile]: requiredVersion };
const notRespondingLabel = "NOT RESPONDING: the server needs a restart (KB952089's symptom)";

afterAll(() => removeBackend());

describe("the summary of an up says what happened", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario(
      "summary-facts",
      {
        engines: [
          { name: "MPS01", files: old },
          { name: "MPS02", files: current },
          // Its install fails; with rollout.maxFailures 0 the rollout halts there.
          { name: "MPS03", files: old, faults: { installExitCodes: [1603, 1603, 1603] } },
          // Compliant and wedged, after the halt.
          { name: "MPS04", files: current, complusResponding: false },
        ],
      },
      { fleet: { host: { responseTimeoutSeconds: 1 } }, rollout: { maxFailures: 0 } },
    );
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  it("on a stack's first up (no adopt), calls a compliant engine compliant, and ends with the failed engine, its step and why", async () => {
    const up = await cli("up", "--stack", scenario.stackName);
    expect(up.code).toBe(1);
    const summary = summaryOf(up.stdout);
    expect(summary["patched"]).toEqual(["MPS01"]);
    expect(summary["already compliant"]).toEqual(["MPS02"]);
    expect(summary["failed"]).toEqual(["MPS03"]);
    expect(summary["skipped: the rollout halted before them"]).toEqual(["MPS04"]);
    const lastLine = up.stderr.trimEnd().split("\n").pop();
    expect(lastLine).toMatch(
      /^mps-hotfix: up failed: engine MPS03: step install-package failed: KB952089: msiexec exit code 1603 \(fatal error during installation\); install log C:\\Windows\\Temp\\mps-hotfix\\KB952089-\d{8}-\d{6}-attempt1\.log/,
    );
  });

  it("lists under NOT RESPONDING a compliant engine the refresh saw wedged, though the halt skipped it", async () => {
    // adopt registers MPS04, which the first up never reached, so the next up's refresh reads it.
    expect((await cli("adopt", "--stack", scenario.stackName)).code).toBe(0);
    const up = await cli("up", "--stack", scenario.stackName);
    expect(up.code).toBe(1);
    const summary = summaryOf(up.stdout);
    expect(summary["failed"]).toEqual(["MPS03"]);
    expect(summary["skipped: the rollout halted before them"]).toEqual(["MPS04"]);
    expect(summary[notRespondingLabel]).toEqual(["MPS04"]);
    // MPS01 was patched by the first up: this one found it compliant.
    expect(summary["patched"]).toEqual([]);
    expect(summary["already compliant"]).toEqual(["MPS01", "MPS02"]);
  });
});
