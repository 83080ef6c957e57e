import { hostScripts, installLogPath } from "../../components/runbook/hostScripts";
import { hostPath, type HotfixTarget } from "../../components/runbook/target";

const target: HotfixTarget = {
  engineName: "MPS01",
  hotfixId: "KB952089",
  packageFile: "KB952089.msi",
  packagePath: "/srv/packages/KB952089.msi",
  packageSha256: "ab".repeat(32),
  requiredVersions: { "Mapsproccntl.dll": "13.3.609.1", "Other.dll": "1.0.0.0" },
  binDir: "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin",
  stagingDir: "D:\\",
  comPlusApplication: "Provisioning Engine",
  engineControlProgId: "Provisioning.EngineControl",
};

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
    expect(installLogPath(target, at, 1)).toBe("D:\\KB952089-20241231-235958-attempt1.log");
  });

  it("differs per attempt and per time, so a retry never overwrites the log before it", () => {
    const paths = [
      installLogPath(target, at, 1),
      installLogPath(target, at, 2),
      installLogPath(target, new Date("2024-12-31T23:59:59.000Z"), 1),
    ];
    expect(new Set(paths).size).toBe(3);
  });
});

describe("hostScripts", () => {
  it("probes every required file under binDir", () => {
    expect(hostScripts.probe(target)).toEqual({
      name: "probe",
      params: {
        FilePaths: [
          "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin\\Mapsproccntl.dll",
          "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin\\Other.dll",
        ],
        EngineName: "MPS01",
        EngineControlProgId: "Provisioning.EngineControl",
        ComPlusApplication: "Provisioning Engine",
      },
    });
  });

  it("stages the package from stdin into the staging directory", () => {
    expect(hostScripts.stagePackage(target, "QUJD")).toEqual({
      name: "stage-package",
      params: { StagingDir: "D:\\", PackageFile: "KB952089.msi" },
      stdin: "QUJD",
    });
  });

  it("installs the staged package with the given log path", () => {
    expect(hostScripts.installPackage(target, "D:\\x.log")).toEqual({
      name: "install-package",
      params: { PackagePath: "D:\\KB952089.msi", LogPath: "D:\\x.log" },
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
});
