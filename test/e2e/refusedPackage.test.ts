import * as CFB from "cfb";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../cli/projectRoot";
import { MsiPackageError, readMsiPackageFile } from "../../components/package/msiPackage";
import { encodeStreamName } from "../../components/package/streamNames";
import { simulatedKb952089 } from "../../simulator/simulatedPackage";
import { regressionPackages } from "../package/msitools";
import { cli } from "./operatorCli";
import { kbFile, removeBackend, startScenario, type Scenario } from "./scenario";

/**
 * A package the reader refuses (damaged, ambiguous, tampered) stops `preview` and `up` as the
 * operator runs them: exit 2, one message naming the stack, the hotfix and the package's path,
 * and no connection to any host. Each package's SHA-256 is pinned, as an operator who hashed it would.
 */

/** What the reader says of a package it refuses, from the reader itself. */
function refusalOf(path: string): string {
  try {
    readMsiPackageFile(path);
  } catch (error) {
    if (error instanceof MsiPackageError) return error.message;
    throw error;
  }
  throw new Error(`test setup: ${path} is read, not refused`);
}

const dir = mkdtempSync(join(tmpdir(), "mps-refused-package-"));

/**
 * The demo package with two more streams whose names decode alike: Binary.Icon as Windows
 * Installer encodes it, and spelled plainly. Which one a reader takes depends on how it looks.
 */
function ambiguousPackage(): string {
  const container = CFB.read(readFileSync(join(projectRoot, simulatedKb952089.path)), { type: "buffer" });
  CFB.utils.cfb_add(container, encodeStreamName({ table: false, name: "Binary.Icon" }), Buffer.from("one"));
  CFB.utils.cfb_add(container, "Binary.Icon", Buffer.from("two"));
  const path = join(dir, "ambiguous.msi");
  writeFileSync(path, Buffer.from(CFB.write(container, { type: "buffer" }) as Uint8Array));
  return path;
}

const refused = [...regressionPackages, { name: "ambiguous", msi: ambiguousPackage() }];

describe.each(refused)("the $name package", ({ msi }) => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario("refusedpkg", {
      engines: [{ name: "MPS01", files: { [kbFile]: "13.3.600.0" } }],
    });
    const sha256 = createHash("sha256").update(readFileSync(msi)).digest("hex");
    scenario.fleetConfig = { ...scenario.fleetConfig, packages: { KB952089: { path: msi, sha256 } } };
    await scenario.applyConfig();
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  it.each(["preview", "up"])("is refused by %s before any connection, in one message", async (command) => {
    const result = await cli(command, "--stack", scenario.stackName);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr:
        `mps-hotfix: stack ${scenario.stackName}: the fleet configuration is invalid; nothing was run on any host:\n` +
        `  - packages.KB952089: the KB952089 package ${msi} ${refusalOf(msi)}\n`,
    });
    expect(scenario.sim.connectionCount()).toBe(0);
    expect(scenario.sim.log()).toEqual([]);
  });
});

afterAll(() => {
  removeBackend();
  rmSync(dir, { recursive: true, force: true });
});
