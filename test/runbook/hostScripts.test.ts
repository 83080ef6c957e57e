import { hostPath } from "../../components/domain/target";
import { hostScripts, installLogPath, probedFiles } from "../../components/runbook/hostScripts";
import {
  defaultHost,
  engineTarget,
  inventedFile,
  inventedHotfix,
  kb952089,
  kbFile,
  requiredFilesOf,
} from "../support/targets";

/** MPS01 with KB952089 and the invented second hotfix, staging to the root of D:. */
const target = engineTarget({ hotfixes: [kb952089, inventedHotfix], host: { stagingDir: "D:\\" } });
const [kbPackage, otherPackage] = [target.packages[0]!, target.packages[1]!];
const binDir = defaultHost.binDir;

describe("hostPath", () => {
  it("joins with one backslash, whether or not the directory ends with one", () => {
    expect(hostPath("C:\\Windows\\Temp\\mps-hotfix", "KB952089.msi")).toBe(
      "C:\\Windows\\Temp\\mps-hotfix\\KB952089.msi",
    );
    expect(hostPath("C:\\Windows\\Temp\\mps-hotfix\\", "KB952089.msi")).toBe(
      "C:\\Windows\\Temp\\mps-hotfix\\KB952089.msi",
    );
    expect(hostPath("D:\\", "KB952089.msi")).toBe("D:\\KB952089.msi");
  });
});

describe("installLogPath", () => {
  const at = new Date("2024-12-31T23:59:58.999Z");

  it("names the hotfix, the UTC time to the second, and the attempt", () => {
    expect(installLogPath(target, kbPackage, at, 1)).toBe("D:\\KB952089-20241231-235958-attempt1.log");
    expect(installLogPath(target, otherPackage, at, 1)).toBe(`D:\\${inventedHotfix.id}-20241231-235958-attempt1.log`);
  });

  it("differs per attempt, per time and per hotfix, so no install overwrites the log of another", () => {
    const paths = [
      installLogPath(target, kbPackage, at, 1),
      installLogPath(target, kbPackage, at, 2),
      installLogPath(target, kbPackage, new Date("2024-12-31T23:59:59.000Z"), 1),
      installLogPath(target, otherPackage, at, 1),
    ];
    expect(new Set(paths).size).toBe(4);
  });
});

describe("probedFiles", () => {
  it("lists every required file of every hotfix, in the order of the hotfixes", () => {
    expect(probedFiles(target)).toEqual([kbFile.name, inventedFile.name]);
  });

  it("lists a file two hotfixes require once, whatever its case", () => {
    const shared = engineTarget({
      hotfixes: [kb952089, inventedHotfix],
      files: {
        [kb952089.id]: requiredFilesOf(kb952089),
        [inventedHotfix.id]: { [kbFile.name.toUpperCase()]: kbFile.version, [inventedFile.name]: inventedFile.version },
      },
    });
    expect(probedFiles(shared).map((f) => f.toLowerCase())).toEqual([
      kbFile.name.toLowerCase(),
      inventedFile.name.toLowerCase(),
    ]);
  });
});

describe("hostScripts", () => {
  it("probes every required file under binDir", () => {
    expect(hostScripts.probe(target)).toEqual({
      name: "probe",
      params: {
        FilePaths: [`${binDir}\\${kbFile.name}`, `${binDir}\\${inventedFile.name}`],
        EngineName: "MPS01",
        EngineControlProgId: "Provisioning.EngineControl",
        ComPlusApplication: "Provisioning Engine",
        ResponseTimeoutSeconds: "30",
      },
    });
  });

  it("stages each package from stdin into the staging directory", () => {
    expect(hostScripts.stagePackage(target, kbPackage, "QUJD")).toEqual({
      name: "stage-package",
      params: { StagingDir: "D:\\", PackageFile: "KB952089.msi" },
      stdin: "QUJD",
    });
    expect(hostScripts.stagePackage(target, otherPackage, "REVG").params).toEqual({
      StagingDir: "D:\\",
      PackageFile: inventedHotfix.packageFile,
    });
  });

  it("installs each staged package with the given log path", () => {
    expect(hostScripts.installPackage(target, kbPackage, "D:\\x.log")).toEqual({
      name: "install-package",
      params: { PackagePath: "D:\\KB952089.msi", LogPath: "D:\\x.log" },
    });
    expect(hostScripts.installPackage(target, otherPackage, "D:\\y.log").params).toEqual({
      PackagePath: `D:\\${inventedHotfix.packageFile}`,
      LogPath: "D:\\y.log",
    });
  });

  it("passes numbers to the host as text", () => {
    expect(hostScripts.shutdownComPlus(target, 90).params).toEqual({
      ComPlusApplication: "Provisioning Engine",
      TimeoutSeconds: "90",
    });
    expect(hostScripts.readInstallLog("D:\\x.log", 25).params).toEqual({ LogPath: "D:\\x.log", Lines: "25" });
  });

  it("deactivates and activates the engine by name through the engine control ProgID", () => {
    const engine = { EngineName: "MPS01", EngineControlProgId: "Provisioning.EngineControl" };
    expect(hostScripts.deactivateEngine(target)).toEqual({ name: "deactivate-engine", params: engine });
    expect(hostScripts.activateEngine(target)).toEqual({ name: "activate-engine", params: engine });
    expect(hostScripts.startComPlus(target)).toEqual({
      name: "start-complus",
      params: { ComPlusApplication: "Provisioning Engine" },
    });
  });

  it("takes the engine's host settings", () => {
    const custom = engineTarget({
      engine: "MPS-07",
      host: {
        binDir: "D:\\MPS (x86)\\Bin",
        comPlusApplication: "Provisioning Engine 2",
        engineControlProgId: "Acme.Control",
        responseTimeoutSeconds: 5,
      },
    });
    expect(hostScripts.probe(custom).params).toEqual({
      FilePaths: [`D:\\MPS (x86)\\Bin\\${kbFile.name}`],
      EngineName: "MPS-07",
      EngineControlProgId: "Acme.Control",
      ComPlusApplication: "Provisioning Engine 2",
      ResponseTimeoutSeconds: "5",
    });
    expect(hostScripts.checkResponse(custom).params).toEqual({
      ComPlusApplication: "Provisioning Engine 2",
      ResponseTimeoutSeconds: "5",
    });
  });
});
