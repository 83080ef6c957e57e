import { EngineHost, HostScriptError } from "../../simulator/engineHost";
import { SimulatedEngine, type EngineFaults } from "../../simulator/fleetFile";
import { simulatedPackageBytes } from "../../simulator/simulatedPackage";
import { dllPath, packagePath, stagingDir } from "./helpers";

const clock = (): Date => new Date("2008-05-08T11:42:13.045Z");
const logPath = `${stagingDir}\\KB952089.log`;

function engine(
  fields: Partial<{ files: Record<string, string>; complus: "running" | "stopped"; faults: EngineFaults }> = {},
): EngineHost {
  return new EngineHost(
    SimulatedEngine.parse({
      name: "MPS01",
      winrmName: "mps01.corp.example",
      files: { "Mapsproccntl.dll": "13.3.600.0" },
      ...fields,
    }),
    clock,
  );
}

function staged(host: EngineHost, installs: Record<string, string> = { "Mapsproccntl.dll": "13.3.609.1" }): void {
  host.stagePackage(stagingDir, "KB952089.msi", simulatedPackageBytes("KB952089", installs));
}

describe("one simulated engine host", () => {
  test("installing while COM+ holds the DLL: 3010, the replacement waits for the restart, and the log says why", () => {
    const host = engine();
    staged(host);
    expect(host.install(packagePath, logPath)).toBe(3010);
    expect(host.installLog(logPath)).toEqual([
      "=== Verbose logging started: 5/8/2008  11:42:13  Build type: SHIP UNICODE 3.01.4001.5512  Calling process: C:\\WINDOWS\\system32\\msiexec.exe ===",
      "MSI (c) (3C:40) [11:42:13:045]: Resetting cached policy values",
      "MSI (c) (3C:40) [11:42:13:045]: Machine policy value 'Debug' is 0",
      `MSI (c) (3C:40) [11:42:13:045]: Command Line: "C:\\WINDOWS\\system32\\msiexec.exe" /i "${packagePath}" /qn /norestart /L*v "${logPath}"`,
      "MSI (s) (A8:B4) [11:42:13:045]: Product: KB952089 -- Installation started.",
      `MSI (s) (A8:B4) [11:42:13:045]: File: ${dllPath};\tOverwrite;\tWon't patch;\tExisting file is of a lesser version`,
      `MSI (s) (A8:B4) [11:42:13:045]: Info 1603. The file ${dllPath} is being held in use by the following process: Name: dllhost, Id: 4242, Window Title: '(not determined yet)'. Close that application and retry.`,
      `MSI (s) (A8:B4) [11:42:13:045]: Scheduling file '${dllPath}' for replacement at the next restart (PendingFileRenameOperations).`,
      "MSI (s) (A8:B4) [11:42:13:045]: Product: KB952089 -- Installation completed successfully.",
      "MSI (s) (A8:B4) [11:42:13:045]: Windows Installer requires a system restart. Product Name: KB952089. Product Version: 13.3.609.1. Product Language: 1033. Type of System Restart: 1. Reason for Restart: 1.",
      "MSI (s) (A8:B4) [11:42:13:045]: Windows Installer installed the product. Product Name: KB952089. Product Version: 13.3.609.1. Product Language: 1033. Installation success or error status: 0.",
      "MSI (c) (3C:40) [11:42:13:045]: MainEngineThread is returning 3010",
      "=== Verbose logging stopped: 5/8/2008  11:42:13 ===",
    ]);
    expect(host.snapshot()).toMatchObject({
      files: { "Mapsproccntl.dll": "13.3.600.0" },
      pendingFiles: { "Mapsproccntl.dll": "13.3.609.1" },
      restartPending: true,
    });

    host.restart();
    expect(host.snapshot()).toMatchObject({
      files: { "Mapsproccntl.dll": "13.3.609.1" },
      pendingFiles: {},
      restartPending: false,
      complus: "running",
    });
  });

  test("a package that replaces nothing needs no restart, even with COM+ running; a new file is installed", () => {
    const host = engine({ files: { "Mapsproccntl.dll": "13.3.609.1" } });
    staged(host);
    expect(host.install(packagePath, logPath)).toBe(0);
    expect(host.snapshot().restartPending).toBe(false);

    const stopped = engine({ files: {}, complus: "stopped" });
    staged(stopped, { "Mapsproccntl.dll": "13.3.609.1", "Mapsprovider.dll": "13.3.609.1" });
    expect(stopped.install(packagePath, logPath)).toBe(0);
    expect(stopped.snapshot().files).toEqual({ "Mapsproccntl.dll": "13.3.609.1", "Mapsprovider.dll": "13.3.609.1" });
    expect(stopped.installLog(logPath)?.[5]).toBe(
      `MSI (s) (A8:B4) [11:42:13:045]: File: ${dllPath};\tOverwrite;\tWon't patch;\tNo existing file`,
    );
  });

  test("the shutdown symptom happens only while the engine is active", () => {
    const host = engine();
    host.deactivate("mps01");
    expect(host.shutdownComPlus("provisioning engine")).toBeUndefined();
    host.activate("MPS01");
    host.startComPlus("Provisioning Engine");
    expect(host.shutdownComPlus("Provisioning Engine")).toBe(
      "COM+ application 'Provisioning Engine' was shut down while engine MPS01 was active: the component stops responding until the server restarts (KB952089)",
    );
    expect(host.snapshot()).toMatchObject({ complusResponding: false, complus: "stopped", complusInstances: 0 });
    host.startComPlus("Provisioning Engine");
    expect(host.snapshot()).toMatchObject({ complusResponding: false, complus: "running", complusInstances: 1 });
  });

  test("names are compared as Windows does, ignoring case", () => {
    const host = engine();
    expect([host.answersTo("mps01"), host.answersTo("MPS01.CORP.EXAMPLE"), host.answersTo("mps02")]).toEqual([
      true,
      true,
      false,
    ]);
    expect(host.fileVersion("c:/program files/microsoft hosting/provisioning/bin/MAPSPROCCNTL.DLL")).toBe("13.3.600.0");
    expect(host.fileVersion("C:\\Program Files\\Microsoft Hosting\\Provisioning\\Mapsproccntl.dll")).toBeUndefined();
    expect(() => host.isActive("MPS02")).toThrow(
      new HostScriptError(
        `Exception calling "IsActive" with "1" argument(s): "No provisioning engine named 'MPS02' is registered on this server."`,
      ),
    );
    expect(() => host.openEngineControl("provisioning.enginecontrol")).not.toThrow();
  });

  test("installExitCodes restart from the beginning when faults are replaced", () => {
    const host = engine({ complus: "stopped", faults: { installExitCodes: [1618] } });
    staged(host);
    expect([host.install(packagePath, logPath), host.install(packagePath, logPath)]).toEqual([1618, 0]);
    host.alter({ files: { "Mapsproccntl.dll": "13.3.600.0" }, faults: { installExitCodes: [1618, 1619] } });
    expect([
      host.install(packagePath, logPath),
      host.install(packagePath, logPath),
      host.install(packagePath, logPath),
    ]).toEqual([1618, 1619, 0]);
    expect(host.snapshot().installAttempts).toBe(5);
  });

  test("staging combines paths as [IO.Path]::Combine and keeps one package per path", () => {
    const host = engine();
    expect(host.stagePackage("C:\\Staging\\", "a.msi", Buffer.from("x")).path).toBe("C:\\Staging\\a.msi");
    expect(host.stagePackage("C:\\Staging", "a.msi", Buffer.from("yy")).path).toBe("C:\\Staging\\a.msi");
    expect(host.snapshot().stagedPackages).toEqual([
      {
        path: "C:\\Staging\\a.msi",
        bytes: 2,
        sha256: "ef90d9c1ec76b1edc9edfaf2c0c05359c10ccc49ae8ecf7b7fd25ce9c02e86a4",
      },
    ]);
  });
});
