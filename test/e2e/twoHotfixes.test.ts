import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDriftReport } from "../../cli/driftReport";
import { hotfixSteps } from "../../cli/hotfixSteps";
import { previewFleet } from "../../cli/workspace";
import { catalog, type HotfixEntry, type HotfixFile } from "../../components/domain/catalog";
import { simulatedKb952089, simulatedPackageBytes } from "../../simulator/simulatedPackage";
import { maintenanceScripts } from "../support/kbRunbook";
import { kbFile, removeBackend, requiredVersion, scriptsOn, startScenario, type Scenario } from "./scenario";

const secondFile = {
  name: "Mapsprovutil.dll",
  version: "13.3.700.5",
  sizeBytes: 1024,
  dateUtc: "2009-01-15T10:00:00Z",
  platform: "x86",
} satisfies HotfixFile;

/** An invented second hotfix, data only: the stack's own catalog adds it after the built-in ones. */
const second = {
  id: "KB999001",
  title: "An invented hotfix that replaces Mapsprovutil.dll (test data)",
  article: "https://support.microsoft.com/kb/999001",
  appliesTo: ["Microsoft Solution for Hosted Messaging and Collaboration 4.0"],
  packageFile: "KB999001.msi",
  restartRequired: false,
  replaces: [],
  prerequisites: [],
  files: [secondFile],
} satisfies HotfixEntry;

/** The scripts of an engine's maintenance that take it down or install: what must happen once, or once per hotfix. */
const maintenanceWindow = new Set([
  "deactivate-engine",
  "shutdown-complus",
  "install-package",
  "start-complus",
  "activate-engine",
]);

describe("an engine that must carry two hotfixes and lacks both", () => {
  const dir = mkdtempSync(join(tmpdir(), "mps-hotfix-two-hotfixes-"));
  let scenario: Scenario;

  beforeAll(async () => {
    const catalogPath = join(dir, "hotfixes.json");
    writeFileSync(catalogPath, JSON.stringify([...catalog, second], null, 2));
    const packageBytes = simulatedPackageBytes(second.id, { [secondFile.name]: secondFile.version });
    const packagePath = join(dir, second.packageFile);
    writeFileSync(packagePath, packageBytes);
    scenario = await startScenario(
      "twohotfixes",
      {
        engines: [
          // KB952089's file is old and KB999001's is not there at all.
          { name: "MPS01", files: { [kbFile]: "13.3.600.0" } },
          // KB952089 is in place; KB999001's file is older than required.
          { name: "MPS02", files: { [kbFile]: requiredVersion, [secondFile.name]: "13.3.700.1" } },
        ],
      },
      {
        fleet: {
          catalog: catalogPath,
          hotfixes: ["KB952089", second.id],
          packages: {
            KB952089: simulatedKb952089,
            [second.id]: { path: packagePath, sha256: createHash("sha256").update(packageBytes).digest("hex") },
          },
        },
      },
    );
  });
  afterAll(async () => {
    await scenario.dispose();
    removeBackend();
    rmSync(dir, { recursive: true, force: true });
  });

  it("previews one resource per engine, with every file of both hotfixes", async () => {
    expect((await scenario.up({ adoptOnly: true })).steps).toEqual({
      "fleet-mps01-hotfixes": "create",
      "fleet-mps02-hotfixes": "create",
    });
    const preview = await scenario.preview();
    expect(preview.steps).toEqual({ "fleet-mps01-hotfixes": "update", "fleet-mps02-hotfixes": "update" });
    expect(preview.output).toContain(`${kbFile}: "13.3.600.0" => "${requiredVersion}"`);
    expect(preview.output).toContain(`${secondFile.name}: "missing" => "${secondFile.version}"`);
    expect(preview.output).toContain(`${secondFile.name}: "13.3.700.1" => "${secondFile.version}"`);
    const report = buildDriftReport(scenario.stackName, hotfixSteps(preview.events));
    expect(report.summary).toEqual({
      KB952089: { needWork: 1, engines: 2 },
      [second.id]: { needWork: 2, engines: 2 },
    });
    expect(report.engines.map((e) => [e.engine, e.hotfix, e.action])).toEqual([
      ["MPS01", "KB952089", "runbook"],
      ["MPS01", second.id, "runbook"],
      ["MPS02", "KB952089", "none"],
      ["MPS02", second.id, "runbook"],
    ]);
  });

  it("takes the engine out of rotation once and installs both, in catalog order", async () => {
    const before = scenario.sim.log().length;
    const up = await scenario.up();
    expect(up.steps).toEqual({ "fleet-mps01-hotfixes": "update", "fleet-mps02-hotfixes": "update" });
    const scriptsOf = (host: string): string[] => scriptsOn(scenario.sim, host, before);
    // The refresh's probe, then one maintenance.
    expect(scriptsOf("MPS01")).toEqual(["probe", ...maintenanceScripts(2)]);
    expect(scriptsOf("MPS01").filter((s) => maintenanceWindow.has(s))).toEqual([
      "deactivate-engine",
      "shutdown-complus",
      "install-package",
      "install-package",
      "start-complus",
      "activate-engine",
    ]);
    expect(scriptsOf("MPS02")).toEqual(["probe", ...maintenanceScripts(1)]);

    // msiexec writes one log per install, named after its hotfix.
    const installedHotfixes = (host: string): string[] =>
      scenario.sim
        .host(host)
        .installLogs.map((path) => /\\(KB\d+)-\d{8}-\d{6}-attempt\d+\.log$/.exec(path)?.[1] ?? path);
    expect(installedHotfixes("MPS01")).toEqual(["KB952089", second.id]);
    expect(installedHotfixes("MPS02")).toEqual([second.id]);
    // The engine repeats each progress line in its Diagnostics section, in the order they came.
    const diagnostics = up.output.slice(up.output.indexOf("Diagnostics:"));
    const progressOf = (prefix: string): string[] =>
      [...diagnostics.matchAll(/^ *\[(MPS\d+ \d+ of \d+)\] (.+): done \(\d+\.\ds\)$/gm)]
        .filter((m) => m[1] === prefix)
        .map((m) => m[2] ?? "");
    expect(progressOf("MPS01 1 of 2")).toEqual([
      "probe",
      "KB952089 stage-package",
      `${second.id} stage-package`,
      "deactivate-engine",
      "shutdown-complus",
      "KB952089 install-package",
      `${second.id} install-package`,
      "verify-files",
      "start-complus",
      "activate-engine",
      "check-response",
    ]);

    for (const name of ["MPS01", "MPS02"]) {
      expect(scenario.sim.host(name)).toMatchObject({
        files: { [kbFile]: requiredVersion, [secondFile.name]: secondFile.version },
        engine: "active",
        complus: "running",
        complusResponding: true,
      });
    }
    const outputs = await (await scenario.stack()).outputs();
    expect(outputs["compliantEngines"]?.value).toBe(2);
    const compliance = outputs["compliance"]?.value as { engines: Record<string, { hotfixes: object }> };
    const inRotationWith = (fileVersions: Record<string, string>): object => ({
      compliant: true,
      fileVersions,
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
      drift: [],
    });
    expect(compliance.engines["MPS01"]?.hotfixes).toEqual({
      KB952089: inRotationWith({ [kbFile]: requiredVersion }),
      [second.id]: inRotationWith({ [secondFile.name]: secondFile.version }),
    });
  });

  it("has nothing to change on the next preview", async () => {
    const preview = await previewFleet(await scenario.stack(), { expectNoChanges: true });
    // The stack, the Fleet, per engine its EngineServer and its one EngineHotfixes, the RolloutResult.
    expect(preview.changeSummary).toEqual({ same: 7 });
  });
});
