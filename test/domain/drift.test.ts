import { driftReasons, fileDrift, outdatedFiles, outdatedHotfixes, rotationDrift } from "../../components/domain/drift";
import { inRotation, type ObservedState } from "../../components/domain/observation";
import type { HotfixRequirements } from "../../components/domain/requirement";
import {
  earlierThan,
  inventedFile,
  inventedHotfix,
  kb952089,
  kbFile,
  laterThan,
  requiredFilesOf,
} from "../support/targets";

/** What the catalog requires of an engine that carries KB952089: one file, grouped under the hotfix. */
const kb = kb952089.id;
const dll = kbFile.name;
const version = kbFile.version;
const required: HotfixRequirements = { [kb]: requiredFilesOf(kb952089) };
const twoRequired: HotfixRequirements = { ...required, [inventedHotfix.id]: requiredFilesOf(inventedHotfix) };

/** An engine in rotation with KB952089's file at `deployed` (the required version by default). */
function state(deployed: string = version, overrides: Partial<ObservedState> = {}): ObservedState {
  return { files: { [kb]: { [dll]: deployed } }, ...inRotation, ...overrides };
}

describe("the desired state", () => {
  it("is the required files, in rotation, COM+ running, no restart owed", () => {
    expect(inRotation).toEqual({
      engineState: "active",
      comPlusState: "running",
      comPlusResponding: true,
      restartPending: false,
    });
    expect(driftReasons({ files: required, ...inRotation }, required)).toEqual([]);
    expect(driftReasons({ files: twoRequired, ...inRotation }, twoRequired)).toEqual([]);
  });
});

describe("outdatedFiles (one hotfix's files)", () => {
  it.each([
    ["the required version", version, []],
    ["a later version", laterThan(version), []],
    ["a much later version", "13.3.1000.0", []],
    ["an earlier version", earlierThan(version), [dll]],
    ["an old version", "13.3.600.0", [dll]],
    ["a missing file", "missing", [dll]],
    ["a file that could not be read", "unknown", [dll]],
  ])("with %s (%s) deployed: %j", (_what, deployed, expected) => {
    expect(outdatedFiles({ [dll]: deployed }, required[kb]!)).toEqual(expected);
  });

  it("counts a required file the observation does not mention as outdated, and a hotfix never observed", () => {
    expect(outdatedFiles({}, required[kb]!)).toEqual([dll]);
    expect(outdatedFiles(undefined, required[kb]!)).toEqual([dll]);
  });

  it("lists only the files that are behind, in requirement order", () => {
    const three = { "A.dll": "1.0.0.0", "B.dll": "2.0.0.0", "C.dll": "3.0.0.0" };
    expect(outdatedFiles({ "A.dll": "0.9.0.0", "B.dll": "2.0.0.0", "C.dll": "missing" }, three)).toEqual([
      "A.dll",
      "C.dll",
    ]);
  });

  it("ignores files the stack does not require", () => {
    expect(outdatedFiles({ [dll]: version, "Old.dll": "0.0.0.1" }, required[kb]!)).toEqual([]);
  });
});

describe("outdatedHotfixes (grouped by hotfix)", () => {
  const both = (kbVersion: string, otherVersion: string): Pick<ObservedState, "files"> => ({
    files: { [kb]: { [dll]: kbVersion }, [inventedHotfix.id]: { [inventedFile.name]: otherVersion } },
  });

  it("lists no hotfix when every file of every hotfix is in place", () => {
    expect(outdatedHotfixes(both(version, inventedFile.version), twoRequired)).toEqual([]);
  });

  it("lists each hotfix that lacks a file, and only those", () => {
    expect(outdatedHotfixes(both(earlierThan(version), inventedFile.version), twoRequired)).toEqual([kb]);
    expect(outdatedHotfixes(both(version, "missing"), twoRequired)).toEqual([inventedHotfix.id]);
    expect(outdatedHotfixes(both("missing", earlierThan(inventedFile.version)), twoRequired)).toEqual([
      kb,
      inventedHotfix.id,
    ]);
  });

  it("counts a hotfix the observation has no group for as outdated", () => {
    expect(outdatedHotfixes({ files: { [kb]: { [dll]: version } } }, twoRequired)).toEqual([inventedHotfix.id]);
  });

  it("answers in the order it is given (catalog order), the requirement's order by default", () => {
    const observed = both("missing", "missing");
    expect(outdatedHotfixes(observed, twoRequired, [inventedHotfix.id, kb])).toEqual([inventedHotfix.id, kb]);
    expect(outdatedHotfixes(observed, twoRequired)).toEqual(Object.keys(twoRequired));
  });

  it("does not hold a hotfix the stack does not require against the engine", () => {
    expect(outdatedHotfixes(both(version, "missing"), required)).toEqual([]);
  });
});

describe("fileDrift", () => {
  it("is empty when the hotfix's files are in place, also at a later version", () => {
    expect(fileDrift(state(), kb, required[kb]!)).toEqual([]);
    expect(fileDrift(state(laterThan(version)), kb, required[kb]!)).toEqual([]);
  });

  it("names an older file with both versions", () => {
    expect(fileDrift(state("13.3.600.0"), kb, required[kb]!)).toEqual([`${dll}: 13.3.600.0 is older than ${version}`]);
  });

  it("names a missing file, and a hotfix that was never observed as missing", () => {
    expect(fileDrift(state("missing"), kb, required[kb]!)).toEqual([`${dll}: missing is older than ${version}`]);
    expect(fileDrift({ files: {} }, kb, required[kb]!)).toEqual([`${dll}: missing is older than ${version}`]);
  });

  it("names a file that could not be read as unknown", () => {
    expect(fileDrift(state("unknown"), kb, required[kb]!)).toEqual([`${dll}: unknown is older than ${version}`]);
  });
});

describe("rotationDrift", () => {
  it("is empty for an engine in rotation", () => {
    expect(rotationDrift(inRotation)).toEqual([]);
  });

  it.each([
    [{ engineState: "deactivated" } as const, ["the engine is deactivated (out of rotation)"]],
    [{ comPlusState: "stopped" } as const, ["the COM+ application is stopped"]],
    [{ restartPending: true }, ["a restart is pending"]],
  ])("reports %j alone", (overrides, expected) => {
    expect(rotationDrift({ ...inRotation, ...overrides })).toEqual(expected);
  });
});

describe("driftReasons", () => {
  it("is empty for a compliant engine, also with a later version", () => {
    expect(driftReasons(state(), required)).toEqual([]);
    expect(driftReasons(state("13.3.1000.0"), required)).toEqual([]);
  });

  it("names an older file with both versions", () => {
    expect(driftReasons(state("13.3.600.0"), required)).toEqual([`${dll}: 13.3.600.0 is older than ${version}`]);
  });

  it("names a missing file", () => {
    expect(driftReasons({ ...state(), files: { [kb]: {} } }, required)).toEqual([
      `${dll}: missing is older than ${version}`,
    ]);
  });

  it("lists every reason, files first", () => {
    expect(
      driftReasons(
        state("missing", { engineState: "deactivated", comPlusState: "stopped", restartPending: true }),
        required,
      ),
    ).toEqual([
      `${dll}: missing is older than ${version}`,
      "a restart is pending",
      "the engine is deactivated (out of rotation)",
      "the COM+ application is stopped",
    ]);
  });

  it("lists the files of every hotfix, hotfix by hotfix, before the engine's own reasons", () => {
    const observed: ObservedState = {
      files: { [kb]: { [dll]: "13.3.600.0" }, [inventedHotfix.id]: { [inventedFile.name]: "missing" } },
      ...inRotation,
      engineState: "deactivated",
    };
    expect(driftReasons(observed, twoRequired)).toEqual([
      `${dll}: 13.3.600.0 is older than ${version}`,
      `${inventedFile.name}: missing is older than ${inventedFile.version}`,
      "the engine is deactivated (out of rotation)",
    ]);
  });

  it.each([
    [{ engineState: "deactivated" } as const, ["the engine is deactivated (out of rotation)"]],
    [{ comPlusState: "stopped" } as const, ["the COM+ application is stopped"]],
    [{ restartPending: true }, ["a restart is pending"]],
  ])("reports %j alone", (overrides, expected) => {
    expect(driftReasons(state(version, overrides), required)).toEqual(expected);
  });
});
