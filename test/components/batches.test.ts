import { rampedBatches } from "../../components/batches";

const chunk = <T>(items: readonly T[], size: number): T[][] => rampedBatches(items, [size]);

describe("batches of one size (rollout.maxUnavailable)", () => {
  const engines = ["MPS01", "MPS02", "MPS03", "MPS04", "MPS05"];

  it("cuts the items into consecutive batches of the size, the last one smaller", () => {
    expect(chunk(engines, 2)).toEqual([["MPS01", "MPS02"], ["MPS03", "MPS04"], ["MPS05"]]);
    expect(chunk(engines, 3)).toEqual([
      ["MPS01", "MPS02", "MPS03"],
      ["MPS04", "MPS05"],
    ]);
  });

  it("makes batches of one item each with size 1", () => {
    expect(chunk(engines, 1)).toEqual(engines.map((engine) => [engine]));
  });

  it("makes one batch of everything when the size is at least the number of items", () => {
    expect(chunk(engines, 5)).toEqual([engines]);
    expect(chunk(engines, 50)).toEqual([engines]);
  });

  it("makes no batch of no items", () => {
    expect(chunk([], 3)).toEqual([]);
  });

  it("keeps every item once, in order, and leaves the input as it was", () => {
    const input = [...engines];
    const batches = chunk(input, 2);
    expect(batches.flat()).toEqual(engines);
    expect(input).toEqual(engines);
    batches[0]!.push("MPS99");
    expect(input).toEqual(engines);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses a batch size of %p", (size) => {
    expect(() => chunk(engines, size)).toThrow(
      new Error(`batch size must be a whole number of at least 1, or a percentage, not ${size}`),
    );
  });
});

describe("ramped batches (rollout.batches)", () => {
  const fleet = Array.from({ length: 60 }, (_, i) => `MPS${String(i + 1).padStart(2, "0")}`);

  it("takes the sizes in order and repeats the last: a canary, then wider batches", () => {
    const batches = rampedBatches(fleet, [1, 5, "25%"]);
    expect(batches.map((b) => b.length)).toEqual([1, 5, 15, 15, 15, 9]);
    expect(batches.flat()).toEqual(fleet);
  });

  it("rounds a percentage of the fleet up, to one engine at least", () => {
    expect(rampedBatches(fleet.slice(0, 7), ["10%"]).map((b) => b.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(rampedBatches(fleet.slice(0, 7), ["50%"]).map((b) => b.length)).toEqual([4, 3]);
    expect(rampedBatches(fleet.slice(0, 3), ["100%"])).toEqual([fleet.slice(0, 3)]);
  });

  it("stops when the fleet runs out, whatever sizes are left", () => {
    expect(rampedBatches(fleet.slice(0, 4), [1, 5, 10]).map((b) => b.length)).toEqual([1, 3]);
  });

  it("refuses no sizes at all", () => {
    expect(() => rampedBatches(fleet, [])).toThrow(new Error("give at least one batch size"));
  });
});
