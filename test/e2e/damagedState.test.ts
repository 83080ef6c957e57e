import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statfsSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointPath, localBackendDir, spaceNeeded, type LocalStack } from "../../cli/backendState";
import { projectRoot } from "../../cli/projectRoot";
import { cli, type CliResult } from "./operatorCli";
import { e2eEnv, kbFile, removeBackend, requiredVersion, startScenario, type Scenario } from "./scenario";

/**
 * A local state backend that cannot take the checkpoint, or whose checkpoint is damaged: the
 * command refuses before any host is contacted, with one message that says what to do.
 */

/** The size of the small file system, as the full disk had it. */
const smallFsKib = 120;

/**
 * A tmpfs of `smallFsKib` mounted for the test, where the machine allows it (root, or a
 * container that permits mounts); else why not.
 */
function mountSmallFs(): { dir: string } | { why: string } {
  const dir = mkdtempSync(join(tmpdir(), "mps-hotfix-small-fs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${smallFsKib}k`, "tmpfs", dir], { stdio: "pipe" });
    return { dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { why: stderr !== undefined && stderr !== "" ? stderr : (error as Error).message };
  }
}

/** The built command with another state backend than the end-to-end tests' one. */
function cliOn(backendUrl: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, "dist", "cli", "main.js"), ...args],
      { cwd: projectRoot, env: { ...process.env, ...e2eEnv, PULUMI_BACKEND_URL: backendUrl } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

afterAll(() => removeBackend());

describe("the state backend", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario("damaged-state", {
      engines: [
        { name: "MPS01", files: { [kbFile]: "13.3.600.0" } },
        { name: "MPS02", files: { [kbFile]: requiredVersion } },
      ],
    });
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  const small = mountSmallFs();
  afterAll(() => {
    if ("dir" in small) {
      execFileSync("umount", [small.dir]);
      rmSync(small.dir, { recursive: true, force: true });
    }
  });
  if ("why" in small) {
    console.warn(
      `SKIPPED: the full-disk test needs a ${smallFsKib} KiB tmpfs, and this machine does not allow mounting one: ${small.why}`,
    );
  }
  const onSmallFs = "dir" in small ? it : it.skip;

  onSmallFs(`refuses an up on a ${smallFsKib} KiB file system before any host is contacted`, async () => {
    if (!("dir" in small)) return;
    const contacts = scenario.sim.log().length;
    const refused = await cliOn(`file://${small.dir}`, "up", "--stack", scenario.stackName);
    expect(refused.code).toBe(2);
    const at: LocalStack = { backendDir: small.dir, project: "mps-hotfix", stack: scenario.stackName };
    const checkpoint = checkpointPath(at);
    const needed = spaceNeeded(checkpoint === undefined ? 0 : statSync(checkpoint).size, 2);
    // Nothing is written after the check: the room now is the room the command saw.
    const fs = statfsSync(small.dir);
    const free = fs.bavail * fs.bsize;
    expect(refused.stderr).toBe(
      `mps-hotfix: stack ${scenario.stackName}: the state backend ${small.dir} has ${Math.ceil(free / 1024)} KiB free; an up of 2 engine(s) needs ${Math.ceil(needed / 1024)} KiB (three copies of the checkpoint as it writes it, its backup and its history, and a margin), so nothing was run on any host. A full disk would leave the checkpoint truncated. Free some space there, or set PULUMI_BACKEND_URL to a backend with room.\n`,
    );
    expect(scenario.sim.log().length).toBe(contacts);
  });

  it("names a truncated checkpoint, its backup and the command that restores it; after it, preview works", async () => {
    expect((await cli("adopt", "--stack", scenario.stackName)).code).toBe(0);
    const backendDir = localBackendDir(e2eEnv.PULUMI_BACKEND_URL);
    if (backendDir === undefined) throw new Error("the end-to-end backend is not a local one");
    const checkpoint = checkpointPath({ backendDir, project: "mps-hotfix", stack: scenario.stackName });
    if (checkpoint === undefined) throw new Error(`adopt left stack ${scenario.stackName} no checkpoint`);
    // As a full disk leaves it: cut short, invalid JSON.
    truncateSync(checkpoint, Math.floor(statSync(checkpoint).size / 2));
    const backup = `${checkpoint}.bak`;
    const restore = `cp '${backup}' '${checkpoint}'`;

    const contacts = scenario.sim.log().length;
    for (const command of ["preview", "up"]) {
      const refused = await cli(command, "--stack", scenario.stackName);
      expect({ command, code: refused.code }).toEqual({ command, code: 2 });
      expect(refused.stderr).toBe(
        `mps-hotfix: stack ${scenario.stackName}: its checkpoint ${checkpoint} cannot be loaded (${jsonErrorOf(checkpoint)}), so nothing was run on any host. The backend keeps the previous checkpoint as ${backup} (written ${statSync(backup).mtime.toISOString()}); restore it with: ${restore} (then run preview: it reads every engine afresh, and the next up records what the restored checkpoint does not).\n`,
      );
    }
    expect(scenario.sim.log().length).toBe(contacts);

    // The operator runs the command the message names.
    execFileSync("sh", ["-c", restore]);
    const preview = await cli("preview", "--stack", scenario.stackName);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain("fleet-mps01-hotfixes");
  });
});

/** What JSON.parse says of a file: the reason the product quotes. */
function jsonErrorOf(path: string): string {
  try {
    JSON.parse(readFileSync(path, "utf8"));
    return "";
  } catch (error) {
    return (error as Error).message;
  }
}
