import { upFleet } from "../../cli/workspace";
import { kbFile, requiredVersion, scenarioFor } from "./scenario";

const engines = ["MPS01", "MPS02", "MPS03", "MPS04", "MPS05", "MPS06"];

describe("a batch of maxUnavailable engines on an engine with less parallelism", () => {
  const scenario = scenarioFor(
    "batch",
    {
      engines: engines.map((name) => ({ name, files: { [kbFile]: "13.3.600.0" } })),
      stepDelaysMs: { default: 50 },
    },
    // The whole fleet at once: every engine of its one pool out together, which rollout.minInRotation otherwise refuses.
    { rollout: { maxUnavailable: engines.length, minInRotation: 0 } },
  );

  it("patches the whole batch at once, not in waves of PULUMI_PARALLEL", async () => {
    const stack = await scenario().stack();
    stack.workspace.envVars["PULUMI_PARALLEL"] = "2";
    const up = await upFleet(stack);
    expect(up.outputs["compliantEngines"]?.value).toBe(engines.length);

    const records = scenario()
      .sim.log()
      .filter((r) => r.script !== "connect");
    const spans = engines.map((host) => {
      const seqs = records.filter((r) => r.host === host).map((r) => r.seq);
      return { host, first: Math.min(...seqs), last: Math.max(...seqs) };
    });
    // Every engine had started its runbook before any engine finished its own.
    const lastStart = Math.max(...spans.map((s) => s.first));
    const firstEnd = Math.min(...spans.map((s) => s.last));
    expect(lastStart).toBeLessThan(firstEnd);
    for (const host of engines) expect(scenario().sim.host(host).files).toEqual({ [kbFile]: requiredVersion });
  });
});
