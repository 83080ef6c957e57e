import type { ProbeAnswer } from "../../components/host/answers";
import { hostPath } from "../../components/domain/target";
import { describeRename, observedFrom, readProbe, renamePath } from "../../components/runbook/observe";
import { engineTarget, inventedFile, inventedHotfix, kb952089, kbFile } from "../support/targets";

const kb = kb952089.id;
const target = engineTarget();

describe("observedFrom", () => {
  const answer: ProbeAnswer = {
    files: { [kbFile.name.toUpperCase()]: "13.3.600.0" },
    engine: "deactivated",
    complus: "stopped",
    complusInstances: 0,
    renames: [],
  };
  const kbPath = hostPath(target.host.binDir, kbFile.name);
  /** The rename Windows Installer leaves for a held file: its new copy replaces it at the next restart. */
  const heldKbFile = [`\\??\\${target.host.binDir}\\MSI4F2A.tmp`, `!\\??\\${kbPath}`];

  it("maps a probe answer onto the target's hotfixes and file names", () => {
    expect(observedFrom({ ...answer, renames: heldKbFile }, target)).toEqual({
      files: { [kb]: { [kbFile.name]: "13.3.600.0" } },
      engineState: "deactivated",
      comPlusState: "stopped",
      restartPending: true,
    });
  });

  it("reports a required file the probe did not mention as missing", () => {
    expect(observedFrom({ ...answer, files: {} }, target).files).toEqual({ [kb]: { [kbFile.name]: "missing" } });
  });

  it("reports no pending restart when nothing is pending, and the engine as the probe saw it", () => {
    const observed = observedFrom({ ...answer, engine: "active", complus: "running" }, target);
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

describe("pending renames: a restart is pending for a hotfix only when one names its files", () => {
  const target = engineTarget({ hotfixes: [kb952089, inventedHotfix] });
  const answer: ProbeAnswer = {
    files: { [kbFile.name]: kbFile.version, [inventedFile.name]: "1.0.0.0" },
    engine: "active",
    complus: "running",
    complusInstances: 1,
    renames: [],
  };
  const binDir = target.host.binDir;
  const kbPath = hostPath(binDir, kbFile.name);
  const inventedPath = hostPath(binDir, inventedFile.name);
  const antivirus = ["\\??\\C:\\Program Files\\Av\\engine.new", "!\\??\\C:\\Program Files\\Av\\engine.dll"];
  const tempDeletion = ["\\??\\C:\\Windows\\Temp\\setup.tmp", ""];

  it("reads a rename's paths without the native prefix and the replace mark", () => {
    expect(renamePath("!\\??\\C:\\a\\b.dll")).toBe("C:\\a\\b.dll");
    expect(renamePath("\\\\?\\C:\\a\\b.dll")).toBe("C:\\a\\b.dll");
    expect(renamePath("")).toBe("");
    expect(describeRename({ from: "C:\\a.tmp", to: "" })).toBe("delete C:\\a.tmp");
    expect(describeRename({ from: "C:\\a.tmp", to: "C:\\b.dll" })).toBe("C:\\a.tmp -> C:\\b.dll");
  });

  it("other software's renames and deletions are noted, never a pending restart", () => {
    const reading = readProbe({ ...answer, renames: [...antivirus, ...tempDeletion] }, target);
    expect(reading.observed.restartPending).toBe(false);
    expect(reading.pendingHotfixFiles).toEqual([]);
    expect(reading.otherRenames).toEqual([
      { from: "C:\\Program Files\\Av\\engine.new", to: "C:\\Program Files\\Av\\engine.dll" },
      { from: "C:\\Windows\\Temp\\setup.tmp", to: "" },
    ]);
  });

  it("a rename whose target is a hotfix file makes the restart pending for that hotfix, whatever the case", () => {
    const held = [`\\??\\${binDir}\\MSI4F2A.tmp`, `!\\??\\${inventedPath.toUpperCase()}`];
    const reading = readProbe({ ...answer, renames: [...antivirus, ...held] }, target);
    expect(reading.observed.restartPending).toBe(true);
    expect(reading.pendingHotfixFiles).toEqual([
      {
        hotfix: inventedHotfix.id,
        file: inventedFile.name,
        from: `${binDir}\\MSI4F2A.tmp`,
        to: inventedPath.toUpperCase(),
      },
    ]);
    expect(reading.otherRenames).toHaveLength(1);
  });

  it("a rename or deletion whose source is a hotfix file does too", () => {
    const reading = readProbe({ ...answer, renames: [`\\??\\${kbPath}`, ""] }, target);
    expect(reading.pendingHotfixFiles.map((p) => p.hotfix)).toEqual([kb]);
  });

  it("a file of the same name elsewhere is not the hotfix's", () => {
    const elsewhere = [`\\??\\C:\\Backup\\${kbFile.name}`, ""];
    expect(readProbe({ ...answer, renames: elsewhere }, target).observed.restartPending).toBe(false);
  });

  it("entries that do not pair up (one lost on the way) are each read on their own, so no hotfix file is missed", () => {
    const reading = readProbe({ ...answer, renames: [tempDeletion[0]!, `!\\??\\${kbPath}`, antivirus[0]!] }, target);
    expect(reading.pendingHotfixFiles.map((p) => p.file)).toEqual([kbFile.name]);
    expect(reading.otherRenames).toHaveLength(2);
  });
});
