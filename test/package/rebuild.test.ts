import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { readMsiPackageFile } from "../../components/package/msiPackage";
import { missingTools, msiinfoExport, packages, regressionPackages, root, skipNotice } from "./msitools";

const missing = missingTools("wixl", "msibuild", "msiinfo");
if (missing.length > 0) {
  skipNotice(
    "test/package/rebuild.test.ts",
    `skipped: ${missing.join(", ")} not installed (apt-get install msitools wixl), so no package is rebuilt`,
  );
}
const withTools = missing.length === 0 ? describe : describe.skip;

withTools("scripts/build-packages.sh", () => {
  let out = "";

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "mps-packages-"));
    execFileSync("bash", [resolve(root, "scripts/build-packages.sh"), out], { stdio: ["ignore", "pipe", "pipe"] });
  });

  afterAll(() => {
    if (out !== "") rmSync(out, { recursive: true, force: true });
  });

  describe.each(packages)("$name.msi", ({ msi }) => {
    const rebuilt = (): string => join(out, basename(msi));

    it.each(["File", "Property"])("rebuilds the %s table of the committed package", (table) => {
      expect(msiinfoExport(rebuilt(), table)).toEqual(msiinfoExport(msi, table));
    });

    it("reads the same as the committed package", () => {
      expect(readMsiPackageFile(rebuilt())).toEqual(readMsiPackageFile(msi));
    });
  });

  it("rebuilds the broken fixtures", () => {
    const fixtures = resolve(root, "test/fixtures/packages");
    expect(readFileSync(join(out, "not-an-msi.msi"))).toEqual(readFileSync(join(fixtures, "not-an-msi.msi")));
    expect(readFileSync(join(out, "damaged.msi"))).toEqual(readFileSync(join(out, "KB952089.msi")).subarray(0, 4096));
  });

  it.each(regressionPackages)("rebuilds the $name regression input byte for byte", ({ msi }) => {
    expect(readFileSync(join(out, basename(msi)))).toEqual(readFileSync(msi));
  });
});
