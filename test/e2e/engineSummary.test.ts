import { previewFleet, upFleet } from "../../cli/workspace";
import { kbFile, requiredVersion, scenarioFor } from "./scenario";

describe("the real engine's own change summary", () => {
  const scenario = scenarioFor("summary", {
    engines: [
      { name: "MPS01", files: { [kbFile]: "13.3.600.0" } },
      { name: "MPS02", files: { [kbFile]: requiredVersion } },
    ],
  });

  it("creates everything on the first up, then a preview has nothing to change", async () => {
    const stack = await scenario().stack();
    const up = await upFleet(stack);
    // The stack, the Fleet, two EngineServers and their EngineHotfixes (one per engine), the RolloutResult.
    expect(up.resourceChanges).toEqual({ create: 7 });
    expect(up.outputs["compliantEngines"]).toEqual({ value: 2, secret: false });
    const preview = await previewFleet(stack, { expectNoChanges: true });
    expect(preview.changeSummary).toEqual({ same: 7 });
    // An up that changes nothing still reports the stack's outputs, as the stack holds them.
    const again = await upFleet(stack);
    expect(again.resourceChanges).toEqual({ same: 7 });
    expect(again.outputs).toEqual(await stack.outputs());
    expect(scenario().sim.host("MPS01").files).toEqual({ [kbFile]: requiredVersion });
  });
});
