import type { ProbeAnswer } from "../../components/host/answers";
import { observedFrom } from "../../components/runbook/observe";
import { engineTarget, inventedFile, inventedHotfix, kb952089, kbFile } from "../support/targets";

const kb = kb952089.id;
const target = engineTarget();

describe("observedFrom", () => {
  const answer: ProbeAnswer = {
    files: { [kbFile.name.toUpperCase()]: "13.3.600.0" },
    engine: "deactivated",
    complus: "stopped",
    complusInstances: 0,
    restart: "pending",
  };

  it("maps a probe answer onto the target's hotfixes and file names", () => {
    expect(observedFrom(answer, target)).toEqual({
      files: { [kb]: { [kbFile.name]: "13.3.600.0" } },
      engineState: "deactivated",
      comPlusState: "stopped",
      restartPending: true,
    });
  });

  it("reports a required file the probe did not mention as missing", () => {
    expect(observedFrom({ ...answer, files: {} }, target).files).toEqual({ [kb]: { [kbFile.name]: "missing" } });
  });

  it("reports no pending restart for restart=none, and the engine as the probe saw it", () => {
    const observed = observedFrom({ ...answer, engine: "active", complus: "running", restart: "none" }, target);
    expect(observed).toMatchObject({ engineState: "active", comPlusState: "running", restartPending: false });
  });

  it("groups the files of an engine with two hotfixes by hotfix, in the target's order", () => {
    const two = engineTarget({ hotfixes: [kb952089, inventedHotfix] });
    const observed = observedFrom(
      { ...answer, files: { [kbFile.name]: kbFile.version, [inventedFile.name]: "missing" } },
      two,
    );
    expect(observed.files).toEqual({
      [kb]: { [kbFile.name]: kbFile.version },
      [inventedHotfix.id]: { [inventedFile.name]: "missing" },
    });
    expect(Object.keys(observed.files)).toEqual([kb, inventedHotfix.id]);
  });

  it("ignores a file the probe reported that the target does not require", () => {
    expect(observedFrom({ ...answer, files: { ...answer.files, "Old.dll": "0.0.0.1" } }, target).files).toEqual({
      [kb]: { [kbFile.name]: "13.3.600.0" },
    });
  });
});
