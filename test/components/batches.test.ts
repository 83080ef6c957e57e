import { chunk } from "../../components/batches";

describe("chunk", () => {
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
      new Error(`batch size must be a whole number of at least 1, not ${size}`),
    );
  });
});
