import { median, medianRun } from "../../bench/stats";

describe("the median run", () => {
  const runs = [{ ms: 900 }, { ms: 420 }, { ms: 610 }];

  it("is the run whose measure is the median, whatever order the runs came in", () => {
    expect(medianRun(runs, (r) => r.ms)).toBe(runs[2]);
    expect(medianRun(runs, (r) => r.ms).ms).toBe(median(runs.map((r) => r.ms)));
  });

  it("of an even count is the lower middle run, one that happened", () => {
    expect(medianRun([...runs, { ms: 700 }], (r) => r.ms)).toBe(runs[2]);
    expect(medianRun([runs[0]!], (r) => r.ms)).toBe(runs[0]);
  });

  it("refuses no runs at all", () => {
    expect(() => medianRun([], () => 0)).toThrow("no runs");
  });
});
