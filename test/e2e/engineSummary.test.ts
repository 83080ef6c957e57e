import { previewFleet, upFleet } from "../../cli/workspace";
import { kbFile, removeBackend, requiredVersion, startScenario, type Scenario } from "./scenario";

describe("the real engine's own change summary", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario("summary", {
      engines: [
        { name: "MPS01", files: { [kbFile]: "13.3.600.0" } },
        { name: "MPS02", files: { [kbFile]: requiredVersion } },
      ],
    });
  });
  afterAll(async () => {
    await scenario.dispose();
    removeBackend();
  });

  it("creates everything on the first up, then a preview has nothing to change", async () => {
    const stack = await scenario.stack();
    const up = await upFleet(stack);
    expect(up.summary.result).toBe("succeeded");
    // The stack, the Fleet, two EngineServers and their EngineHotfixes (one per engine), the RolloutResult.
    expect(up.summary.resourceChanges).toEqual({ create: 7 });
    const preview = await previewFleet(stack, { expectNoChanges: true });
    expect(preview.changeSummary).toEqual({ same: 7 });
    expect(scenario.sim.host("MPS01").files).toEqual({ [kbFile]: requiredVersion });
  });
});
