import type { ProbeAnswer } from "../../components/host/answers";
import {
  desiredState,
  driftReasons,
  observedFrom,
  outdatedFiles,
  type ObservedState,
} from "../../components/runbook/observedState";

const required = { "Mapsproccntl.dll": "13.3.609.1" };

function state(overrides: Partial<ObservedState> = {}): ObservedState {
  return {
    fileVersions: { "Mapsproccntl.dll": "13.3.609.1" },
    engineState: "active",
    comPlusState: "running",
    restartPending: false,
    ...overrides,
  };
}

describe("desiredState", () => {
  it("is the required files, in rotation, COM+ running, no restart owed", () => {
    expect(desiredState(required)).toEqual({
      fileVersions: { "Mapsproccntl.dll": "13.3.609.1" },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
    });
    expect(driftReasons(desiredState(required), required)).toEqual([]);
  });
});

describe("outdatedFiles", () => {
  it.each([
    ["13.3.609.1", []],
    ["13.3.1000.0", []],
    ["13.3.609.2", []],
    ["13.3.600.0", ["Mapsproccntl.dll"]],
    ["13.3.609.0", ["Mapsproccntl.dll"]],
    ["missing", ["Mapsproccntl.dll"]],
  ])("with %s deployed: %j", (deployed, expected) => {
    expect(outdatedFiles(state({ fileVersions: { "Mapsproccntl.dll": deployed } }), required)).toEqual(expected);
  });

  it("counts a required file the state does not mention as outdated", () => {
    expect(outdatedFiles(state({ fileVersions: {} }), required)).toEqual(["Mapsproccntl.dll"]);
  });

  it("lists only the files that are behind, in requirement order", () => {
    const two = { "A.dll": "1.0.0.0", "B.dll": "2.0.0.0", "C.dll": "3.0.0.0" };
    const observed = state({ fileVersions: { "A.dll": "0.9.0.0", "B.dll": "2.0.0.0", "C.dll": "missing" } });
    expect(outdatedFiles(observed, two)).toEqual(["A.dll", "C.dll"]);
  });

  it("ignores files the stack does not require", () => {
    expect(
      outdatedFiles(state({ fileVersions: { "Mapsproccntl.dll": "13.3.609.1", "Old.dll": "0.0.0.1" } }), required),
    ).toEqual([]);
  });
});

describe("driftReasons", () => {
  it("is empty for a compliant engine, also with a later version", () => {
    expect(driftReasons(state(), required)).toEqual([]);
    expect(driftReasons(state({ fileVersions: { "Mapsproccntl.dll": "13.3.1000.0" } }), required)).toEqual([]);
  });

  it("names an older file with both versions", () => {
    expect(driftReasons(state({ fileVersions: { "Mapsproccntl.dll": "13.3.600.0" } }), required)).toEqual([
      "Mapsproccntl.dll: 13.3.600.0 is older than 13.3.609.1",
    ]);
  });

  it("names a missing file", () => {
    expect(driftReasons(state({ fileVersions: {} }), required)).toEqual([
      "Mapsproccntl.dll: missing is older than 13.3.609.1",
    ]);
  });

  it("lists every reason, files first", () => {
    expect(
      driftReasons(
        {
          fileVersions: { "Mapsproccntl.dll": "missing" },
          engineState: "deactivated",
          comPlusState: "stopped",
          restartPending: true,
        },
        required,
      ),
    ).toEqual([
      "Mapsproccntl.dll: missing is older than 13.3.609.1",
      "a restart is pending",
      "the engine is deactivated (out of rotation)",
      "the COM+ application is stopped",
    ]);
  });

  it.each([
    [{ engineState: "deactivated" } as const, ["the engine is deactivated (out of rotation)"]],
    [{ comPlusState: "stopped" } as const, ["the COM+ application is stopped"]],
    [{ restartPending: true }, ["a restart is pending"]],
  ])("reports %j alone", (overrides, expected) => {
    expect(driftReasons(state(overrides), required)).toEqual(expected);
  });
});

describe("observedFrom", () => {
  const answer: ProbeAnswer = {
    files: { "MAPSPROCCNTL.DLL": "13.3.600.0" },
    engine: "deactivated",
    complus: "stopped",
    complusInstances: 0,
    restart: "pending",
  };

  it("maps a probe answer onto the required file names", () => {
    expect(observedFrom(answer, required)).toEqual({
      fileVersions: { "Mapsproccntl.dll": "13.3.600.0" },
      engineState: "deactivated",
      comPlusState: "stopped",
      restartPending: true,
    });
  });

  it("reports a required file the probe did not mention as missing", () => {
    expect(observedFrom({ ...answer, files: {} }, required).fileVersions).toEqual({ "Mapsproccntl.dll": "missing" });
  });

  it("reports no pending restart for restart=none", () => {
    expect(observedFrom({ ...answer, restart: "none" }, required).restartPending).toBe(false);
  });
});
