import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../cli/projectRoot";
import { leaseOnHost } from "../support/lease";
import { e2eEnv, kbFile, removeBackend, requiredVersion, startScenario, type Scenario } from "./scenario";

const oldVersion = "13.3.600.0";

/**
 * Two operators, two checkouts: each `up` has its own local backend, so no backend lock is shared,
 * and both run at once on the same fleet. The maintenance lease on each engine is what keeps them
 * apart: every engine is maintained exactly once (the simulator's step log), and the run that met
 * the other's lease names it.
 */

interface Run {
  readonly code: number;
  readonly output: string;
}

/** `mps-hotfix up` in its own process, against the backend given. */
function upWith(backendUrl: string, stackName: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, "dist", "cli", "main.js"), "up", "--stack", stackName],
      { cwd: projectRoot, env: { ...process.env, ...e2eEnv, PULUMI_BACKEND_URL: backendUrl }, maxBuffer: 32 << 20 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code), output: `${stdout}\n${stderr}` }),
    );
  });
}

const engines = ["MPS01", "MPS02"];

describe("two ups with separate backends on one fleet at once", () => {
  let scenario: Scenario;
  const secondBackend = mkdtempSync(join(tmpdir(), "mps-hotfix-e2e-second-operator-"));
  beforeAll(async () => {
    scenario = await startScenario("two-operators", {
      engines: engines.map((name) => ({ name, files: { [kbFile]: oldVersion } })),
      // Slow enough that the second run meets the first one's maintenance under way.
      stepDelaysMs: { "install-package": 3000, "shutdown-complus": 500 },
    });
  });
  afterAll(async () => {
    await scenario.dispose();
    rmSync(secondBackend, { recursive: true, force: true });
    removeBackend();
  });

  test("every engine is maintained exactly once, and the other run names the lease", async () => {
    const [first, second] = await Promise.all([
      upWith(e2eEnv.PULUMI_BACKEND_URL, scenario.stackName),
      upWith(`file://${secondBackend}`, scenario.stackName),
    ]);
    const log = scenario.sim.log();
    for (const engine of engines) {
      const deactivations = log.filter(
        (r) => r.host === engine && r.script === "deactivate-engine" && r.exitCode === 0,
      );
      const installs = log.filter((r) => r.host === engine && r.script === "install-package" && r.exitCode === 0);
      expect([engine, deactivations.length, installs.length]).toEqual([engine, 1, 1]);
      const host = scenario.sim.host(engine);
      expect([host.engine, host.complus, host.files[kbFile]]).toEqual(["active", "running", requiredVersion]);
      expect(leaseOnHost(scenario.sim, engine)).toBeUndefined();
    }
    // One run did the work; the other met its lease, said whose it was, and failed without touching the engine.
    const runs = [first, second].sort((a, b) => a.code - b.code);
    expect(runs.map((r) => r.code)).toEqual([0, 1]);
    expect(runs[1]!.output).toMatch(
      /in maintenance by (\S+ on \S+ \(stack [^,]+, run [0-9TZ]+-[0-9]+-[0-9a-f]{6}\) since |run [0-9TZ]+-[0-9]+-[0-9a-f]{6} \(its maintenance lease\))/,
    );
    expect(runs[1]!.output).toContain("was not taken out of rotation");
  });
});
