import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../cli/projectRoot";
import { catalog, draftPlaceholder, HotfixEntry, parseCatalog } from "../../components/domain/catalog";
import { readMsiPackageFile } from "../../components/package/msiPackage";
import { simulatedKb952089 } from "../../simulator/simulatedPackage";
import { kbFile, removeBackend, requiredVersion, startScenario, type Scenario } from "./scenario";

/**
 * Adding a hotfix from its package, as docs/operator-guide.md says ("Adding a hotfix to the
 * catalog"): `package inspect --catalog-entry` drafts the entry from the package's File table, the
 * entry goes into a copy of the catalog (data only, no code change), and the simulated fleet is
 * rolled out with it.
 */
const packagePath = "test/fixtures/packages/KB999001.msi";

function inspect(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, "dist", "cli", "main.js"), "package", "inspect", ...args],
      { cwd: projectRoot },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

describe("a hotfix drafted from its package and rolled out", () => {
  let scenario: Scenario;
  const dir = mkdtempSync(join(tmpdir(), "mps-hotfix-catalog-"));
  const pkg = readMsiPackageFile(join(projectRoot, packagePath));
  const file = pkg.files[0]!;

  afterAll(async () => {
    await scenario.dispose();
    removeBackend();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the package's product and File table", async () => {
    const result = await inspect(packagePath);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`ProductName    ${pkg.productName}`);
    expect(result.stdout).toContain(`ProductVersion ${pkg.productVersion}`);
    expect(result.stdout).toContain(`| ${file.fileName} | ${file.version} | ${file.sizeBytes} | ${file.language} |`);
  });

  it("drafts the entry, which a copy of the catalog takes as data, and the fleet gets the hotfix", async () => {
    const drafted = await inspect(packagePath, "--catalog-entry", "KB999001");
    expect(drafted.code).toBe(0);
    expect(drafted.stderr).toContain("Fill in from the article before adding it to the catalog");
    const entry = HotfixEntry.parse(JSON.parse(drafted.stdout));
    expect(entry).toMatchObject({
      id: "KB999001",
      packageFile: "KB999001.msi",
      files: [{ name: file.fileName, version: file.version, sizeBytes: file.sizeBytes }],
    });
    // What only the article can tell is left as placeholders, which a catalog refuses until filled in.
    expect(() => parseCatalog([...catalog, entry])).toThrow(/KB999001 is a draft: the title is still the placeholder/);
    const filledIn: HotfixEntry = {
      ...entry,
      title: "An invented second hotfix for the end-to-end tests",
      article: entry.article.slice(0, -draftPlaceholder.article.length),
      appliesTo: catalog[0]!.appliesTo,
      files: entry.files.map((f) => ({ ...f, dateUtc: "2008-07-01T00:00:00Z" })),
    };
    const catalogPath = join(dir, "hotfixes.json");
    writeFileSync(catalogPath, JSON.stringify([...catalog, filledIn], null, 2));

    const sha256 = createHash("sha256")
      .update(readFileSync(join(projectRoot, packagePath)))
      .digest("hex");
    scenario = await startScenario(
      "drafted",
      { engines: [{ name: "MPS01", files: { [kbFile]: requiredVersion } }] },
      {
        fleet: {
          catalog: catalogPath,
          hotfixes: ["KB952089", "KB999001"],
          packages: { KB952089: simulatedKb952089, KB999001: { path: packagePath, sha256 } },
        },
      },
    );
    const up = await scenario.up();
    expect(up.steps).toEqual({ "fleet-mps01-hotfixes": "create" });
    expect(scenario.sim.host("MPS01").files).toEqual({ [kbFile]: requiredVersion, [file.fileName]: file.version });
    const installs = scenario.sim.log().filter((r) => r.host === "MPS01" && r.script === "install-package");
    expect(installs).toHaveLength(1);
    const again = await scenario.preview();
    expect(again.steps).toEqual({ "fleet-mps01-hotfixes": "same" });
  });
});
