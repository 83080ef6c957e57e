import { spawn } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../cli/projectRoot";
import { kbRunbookScripts } from "../support/kbRunbook";
import { backendText, e2eEnv, kbFile, requiredVersion, scriptsOn, simulatorPassword, scenarioFor } from "./scenario";

/** How long shutdown-complus takes on the simulated hosts: the later Ctrl-Cs come while it runs. */
const shutdownMs = 1500;

describe("Ctrl-C during an up", () => {
  const scenario = scenarioFor("interrupt", {
    stepDelaysMs: { default: 0, "shutdown-complus": shutdownMs },
    engines: [
      { name: "MPS01", files: { [kbFile]: "13.3.600.0" } },
      { name: "MPS02", files: { [kbFile]: "13.3.600.0" } },
    ],
  });

  /**
   * `mps-hotfix up` in its own process group, interrupted as Ctrl-C does once MPS01 is being taken
   * out of rotation; then once more after each of `againAfterMs`.
   */
  async function upInterruptedAtDeactivate(
    ...againAfterMs: number[]
  ): Promise<{ code: number | null; output: string; groupGone: () => Promise<void> }> {
    const cli = spawn(
      process.execPath,
      [join(projectRoot, "dist", "cli", "main.js"), "up", "--stack", scenario().stackName],
      {
        cwd: projectRoot,
        env: { ...process.env, ...e2eEnv },
        detached: true, // its own process group, as a terminal's foreground job is
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    cli.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.on("exit", (code) => resolve(code)));

    // Interrupt the whole process group while MPS01 is out of rotation, as Ctrl-C in a terminal does.
    await new Promise<void>((resolve) => {
      const stop = scenario().sim.onStep((record) => {
        if (record.host === "MPS01" && record.script === "deactivate-engine") {
          stop();
          process.kill(-cli.pid!, "SIGINT");
          for (const ms of againAfterMs) setTimeout(() => process.kill(-cli.pid!, "SIGINT"), ms);
          resolve();
        }
      });
    });
    const group = -cli.pid!;
    return { code: await exited, output, groupGone: () => processGroupGone(group) };
  }

  // Ctrl-C reaches the CLI, which cancels the update, lets in-flight steps finish and starts no
  // new one; the provider host, in a process group of its own, does not see it. So the engine
  // being patched completes its runbook and is back in rotation; the engines after it are not
  // touched.
  it("finishes the engine being patched, back in rotation, and touches no other engine", async () => {
    const { code, output } = await upInterruptedAtDeactivate();

    expect(code).not.toBe(0);
    expect(output).toContain("mps-hotfix: interrupted; waiting for the engine to finish the current step");
    expect(output).toContain("error: update canceled");
    expect(scriptsOn(scenario().sim, "MPS01")).toEqual(kbRunbookScripts);
    expect(scenario().sim.host("MPS01")).toMatchObject({
      engine: "active",
      complus: "running",
      complusResponding: true,
    });
    expect(
      scenario()
        .sim.log()
        .filter((r) => r.host === "MPS02" && r.script !== "probe" && r.script !== "connect"),
    ).toEqual([]);
    expect(scenario().sim.host("MPS01").files).toEqual({ [kbFile]: requiredVersion });
    // The state records the patched engine and nothing for the one never started.
    const state = backendText();
    expect(state.includes('"id":"MPS01"')).toBe(true);
    expect(state.includes('"id":"MPS02"')).toBe(false);
    expect(output).not.toContain(simulatorPassword);

    const rerun = await scenario().up();
    expect(rerun.steps).toEqual({ "fleet-mps01-hotfixes": "same", "fleet-mps02-hotfixes": "create" });
    expect(scenario().sim.host("MPS02").files).toEqual({ [kbFile]: requiredVersion });
  });

  it("keeps the stack's outputs of the last complete run when interrupted, and says so", async () => {
    for (const name of ["MPS01", "MPS02"]) scenario().sim.alter(name, { files: { [kbFile]: "13.3.600.0" } });
    const { code, output } = await upInterruptedAtDeactivate();
    expect(code).not.toBe(0);
    const outputs = await (await scenario().stack()).outputs();
    expect([outputs["compliantEngines"]?.value, outputs["totalEngines"]?.value]).toEqual([2, 2]);
    expect(output).toContain(
      "mps-hotfix: the stack's outputs are kept as the last complete run left them (2 of 2 engines compliant then)",
    );
  });

  it("a second Ctrl-C stops the runbook after its current step, puts the engine back, and only then exits", async () => {
    for (const name of ["MPS01", "MPS02"]) scenario().sim.alter(name, { files: { [kbFile]: "13.3.600.0" } });
    const before = scenario().sim.log().length;
    const { code, output } = await upInterruptedAtDeactivate(shutdownMs / 4);
    expect(code).not.toBe(0);
    expect(output).toContain(
      "mps-hotfix: stopping the runbook on MPS01 after its current step and putting the engine back into rotation",
    );
    const scripts = scriptsOn(scenario().sim, "MPS01", before);
    expect(scripts).toContain("shutdown-complus");
    expect(scripts).not.toContain("install-package");
    // The command exited after the runbook put the engine back.
    expect(scenario().sim.host("MPS01")).toMatchObject({
      engine: "active",
      complus: "running",
      complusResponding: true,
    });
    expect(scenario().sim.host("MPS01").files).toEqual({ [kbFile]: "13.3.600.0" });
    expect(scriptsOn(scenario().sim, "MPS02", before).filter((script) => script !== "probe")).toEqual([]);
  });

  // The third Ctrl-C ends the command at once. The runbook runs in the provider host, which the
  // engine stopped with SIGINT at the second: the host still finishes the step under way and puts
  // the engine back, but the command can no longer wait for it, so it names the engine.
  it("a third Ctrl-C quits during the runbook and names the engine it may leave out of rotation, in capitals", async () => {
    for (const name of ["MPS01", "MPS02"]) scenario().sim.alter(name, { files: { [kbFile]: "13.3.600.0" } });
    const before = scenario().sim.log().length;
    const backInRotation = new Promise<void>((resolve) => {
      const stop = scenario().sim.onStep((record) => {
        if (record.host === "MPS01" && record.script === "activate-engine") {
          stop();
          resolve();
        }
      });
    });
    const { code, output, groupGone } = await upInterruptedAtDeactivate(shutdownMs / 5, (2 * shutdownMs) / 5);
    expect(code).toBe(130);
    expect(output).toContain(
      "mps-hotfix: QUIT DURING A RUNBOOK: MPS01 may be left out of rotation (engine deactivated, COM+ application stopped); check it before anything else",
    );
    expect(output).toContain(
      `mps-hotfix: the stack may be left locked; once no pulumi process of it runs, \`pulumi cancel --stack ${scenario().stackName}\` removes the lock`,
    );
    await backInRotation;
    expect(scenario().sim.host("MPS01")).toMatchObject({
      engine: "active",
      complus: "running",
      complusResponding: true,
    });
    expect(scriptsOn(scenario().sim, "MPS01", before)).not.toContain("install-package");
    // The CLI the command started ended on its closed output, before it removed the stack's lock.
    await groupGone();
    await (await scenario().stack()).cancel();
    const rerun = await scenario().up();
    expect(rerun.steps).toEqual({ "fleet-mps01-hotfixes": "update", "fleet-mps02-hotfixes": "update" });
  });
});

/** Resolves once no process of the group is left (the CLI the command started is in it). */
async function processGroupGone(group: number): Promise<void> {
  for (;;) {
    try {
      process.kill(group, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
