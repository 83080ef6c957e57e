import { evaluateTargets, type TargetMeasures } from "../../bench/report";

const MiB = 1024 ** 2;

function size(
  engines: number,
  measures: { previewMs: number; ansibleMs?: number; peakMiB: number; upMs?: number; playbookMs?: number },
): TargetMeasures {
  return {
    engines,
    previews: [
      {
        fleet: "compliant",
        ms: measures.previewMs - 500,
        startMs: 500,
        memory: { peakBytes: measures.peakMiB * MiB },
        ansible: measures.ansibleMs === undefined ? [] : [{ forks: 5, ms: measures.ansibleMs }],
      },
    ],
    ups: measures.upMs === undefined ? [] : [{ maxUnavailable: 10, overheadPerEngineMs: measures.upMs }],
    ansibleUps: measures.playbookMs === undefined ? [] : [{ serial: 10, overheadPerEngineMs: measures.playbookMs }],
  };
}

describe("the bench's targets", () => {
  it("are judged at every size: preview against Ansible's probe, up overhead against the playbook's, memory by fleet size", () => {
    const targets = evaluateTargets([
      size(200, { previewMs: 15_000, ansibleMs: 100_000, peakMiB: 590, upMs: 200, playbookMs: 3000 }),
      size(1, { previewMs: 2300, ansibleMs: 1600, peakMiB: 195, upMs: 4000, playbookMs: 3500 }),
    ]);
    expect(targets.map((t) => [t.engines, t.name, t.value, t.limit, t.met])).toEqual([
      [1, "compliant-fleet preview (start + preview) / Ansible probe (5 forks)", 1.44, 1, false],
      [1, "up overhead per engine, maxUnavailable 10, below the playbook's at serial 10 (3500 ms)", 4000, 3500, false],
      [1, "peak memory of a preview", 195 * MiB, 300 * MiB, true],
      [200, "compliant-fleet preview (start + preview) / Ansible probe (5 forks)", 0.15, 1, true],
      [200, "up overhead per engine, maxUnavailable 10, below the playbook's at serial 10 (3000 ms)", 200, 3000, true],
      [200, "peak memory of a preview", 590 * MiB, 600 * MiB, true],
    ]);
  });

  it("judges no Ansible target where Ansible did not run, and holds 10 engines to 300 MiB and 50 to 600 MiB", () => {
    const targets = evaluateTargets([
      size(10, { previewMs: 3000, peakMiB: 310 }),
      size(50, { previewMs: 5000, peakMiB: 310 }),
    ]);
    expect(targets.map((t) => [t.engines, t.name, t.met])).toEqual([
      [10, "peak memory of a preview", false],
      [50, "peak memory of a preview", true],
    ]);
  });
});
