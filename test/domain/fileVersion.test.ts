import fc from "fast-check";
import {
  compareFileVersions,
  FileVersionText,
  parseFileVersion,
  satisfies,
  type FileVersion,
} from "../../components/domain/fileVersion";
import { kbFile } from "../support/targets";

function version(text: string): FileVersion {
  const parsed = parseFileVersion(text);
  if (parsed === undefined) throw new Error(`test setup: ${text} should parse`);
  return parsed;
}

describe("parseFileVersion", () => {
  it.each([
    ["13.3.609.1", [13, 3, 609, 1]],
    ["0.0.0.0", [0, 0, 0, 0]],
    ["65535.65535.65535.65535", [65535, 65535, 65535, 65535]],
    ["13.3.1000.0", [13, 3, 1000, 0]],
  ])("reads %s as four numbers", (text, expected) => {
    expect(parseFileVersion(text)).toEqual(expected);
  });

  it.each([
    ["13.3.609", "three parts"],
    ["13.3.609.1.0", "five parts"],
    ["a.b.c.d", "letters"],
    ["65536.0.0.0", "a part above 65535"],
    ["13.3.609.65536", "the last part above 65535"],
    ["01.2.3.4", "a leading zero"],
    ["13.3.0609.1", "a leading zero in the build part"],
    ["", "nothing"],
    ["13..609.1", "an empty part"],
    ["13.3.609.", "a trailing dot"],
    [" 13.3.609.1", "a leading space"],
    ["13.3.609.1 ", "a trailing space"],
    ["-1.3.609.1", "a negative part"],
    ["+1.3.609.1", "a sign"],
    ["1e1.3.609.1", "an exponent"],
    ["0x1.3.609.1", "hexadecimal"],
    ["123456.0.0.0", "six digits"],
    ["13,3,609,1", "commas"],
    ["13.3.609.1\n", "a newline"],
    ["\u0661\u0663.3.609.1", "non-ASCII digits"],
  ])("rejects %j (%s)", (text) => {
    expect(parseFileVersion(text)).toBeUndefined();
  });
});

describe("compareFileVersions", () => {
  it("compares parts as numbers, not as text (13.3.1000.0 is later than 13.3.609.1)", () => {
    // Sorting as text would put them the wrong way round.
    expect(["13.3.609.1", "13.3.1000.0"].sort()).toEqual(["13.3.1000.0", "13.3.609.1"]);
    expect(compareFileVersions(version("13.3.1000.0"), version("13.3.609.1"))).toBeGreaterThan(0);
    expect(compareFileVersions(version("13.3.609.1"), version("13.3.1000.0"))).toBeLessThan(0);
  });

  it("treats a version as equal to itself", () => {
    expect(compareFileVersions(version("13.3.609.1"), version("13.3.609.1"))).toBe(0);
  });

  it.each([
    ["10.0.0.0", "9.0.0.0"],
    ["13.4.0.0", "13.3.65535.65535"],
    ["13.3.610.0", "13.3.609.65535"],
    ["13.3.609.2", "13.3.609.1"],
    ["13.3.609.10", "13.3.609.9"],
  ])("%s is later than %s", (later, earlier) => {
    expect(compareFileVersions(version(later), version(earlier))).toBeGreaterThan(0);
    expect(compareFileVersions(version(earlier), version(later))).toBeLessThan(0);
  });
});

describe("satisfies (the KB's 'or later file attributes'), on example versions", () => {
  it.each([
    ["13.3.609.1", "13.3.609.1", true],
    ["13.3.1000.0", "13.3.609.1", true],
    ["13.3.609.2", "13.3.609.1", true],
    ["14.0.0.0", "13.3.609.1", true],
    ["13.3.600.0", "13.3.609.1", false],
    ["13.3.609.0", "13.3.609.1", false],
    ["12.65535.65535.65535", "13.3.609.1", false],
    ["missing", "13.3.609.1", false],
    ["", "13.3.609.1", false],
    ["13.3.609", "13.3.609.1", false],
    ["13.3.609.1", "not a version", false],
  ])("%j satisfies %j: %s", (deployed, required, expected) => {
    expect(satisfies(deployed, required)).toBe(expected);
  });
});

describe("satisfies against the catalog's KB952089 requirement", () => {
  const required = kbFile.version;
  const [major, minor, build, revision] = version(required);
  const text = (parts: readonly number[]): string => parts.join(".");

  it.each([
    ["the required version itself", required, true],
    ["a later revision", text([major, minor, build, revision + 1]), true],
    ["a later build", text([major, minor, build + 1, 0]), true],
    ["a later major version", text([major + 1, 0, 0, 0]), true],
    ["an earlier revision", text([major, minor, build, revision - 1]), false],
    ["an earlier build with a higher revision", text([major, minor, build - 1, 65535]), false],
    ["an earlier minor version", text([major, minor - 1, 65535, 65535]), false],
    // The article's run-together cells also read as this lower version (see the catalog's readingNote).
    ["the lower reading of the article's row", required.slice(0, -1), false],
    ["a missing file", "missing", false],
    ["a version cut short", text([major, minor, build]), false],
  ])("%s (%s): %s", (_what, deployed, expected) => {
    expect(satisfies(deployed, required)).toBe(expected);
  });

  it("has a revision, build and minor above 0, so the earlier versions above exist", () => {
    expect(revision).toBeGreaterThan(0);
    expect(build).toBeGreaterThan(0);
    expect(minor).toBeGreaterThan(0);
  });
});

describe("FileVersionText", () => {
  it("accepts four numbers", () => {
    expect(FileVersionText.parse("13.3.609.1")).toBe("13.3.609.1");
  });

  it("rejects anything else with the one explanation", () => {
    const result = FileVersionText.safeParse("13.3.609");
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual([
      "must be a file version of four numbers, each 0-65535, such as 13.3.609.1",
    ]);
  });
});

describe("FileVersionText's pattern and parseFileVersion", () => {
  // The schema is a pattern (so the stack file's JSON Schema can carry it) while the product
  // compares versions through parseFileVersion: the two must accept exactly the same strings.
  const part = fc.oneof(
    fc.integer({ min: 0, max: 70000 }).map(String),
    fc.constantFrom("", "00", "01", "065535", "-1", "a", " 1", "1 "),
  );
  const text = fc.oneof(
    fc.array(part, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(".")),
    fc.string(),
  );

  it("accepts a string exactly when parseFileVersion reads it", () => {
    fc.assert(
      fc.property(text, (candidate) => {
        expect(FileVersionText.safeParse(candidate).success).toBe(parseFileVersion(candidate) !== undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it.each(["0.0.0.0", "65535.65535.65535.65535", "13.3.609.117", "9999.10000.59999.65529"])(
    "accepts the edge %s",
    (edge) => {
      expect(FileVersionText.safeParse(edge).success).toBe(true);
    },
  );
});
