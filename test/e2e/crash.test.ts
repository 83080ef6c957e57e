import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { localBackendDir, stackLocks, type LocalStack } from "../../cli/backendState";
import { outOfRotationExitCode } from "../../cli/main";
import { projectRoot } from "../../cli/projectRoot";
import type { SimulatedFleet } from "../../simulator/server";
import { kbRunbookScripts } from "../support/kbRunbook";
import { cli, type CliResult } from "./operatorCli";
import { e2eEnv, kbFile, removeBackend, requiredVersion, startScenario, type Scenario } from "./scenario";

/**
 * The command killed during a maintenance, at every step of the runbook, on an engine reached
 * straight and on one behind a relay, against the real engine and the simulated fleet. Two ways:
 * its whole process group with SIGKILL, as a machine losing power stops the command and every
 * process it started; and only the command's own process, as a closed terminal might, leaving its
 * children to do what they do. After each: no engine is out of rotation without a message that
 * names it (the invariant), `mps-hotfix preview` names the engine left out and why, and one
 * `mps-hotfix up` restores and converges it.
 */

/** Each script's run time on the simulated hosts: a kill at a step's start lands while it runs. */
const stepDelayMs = 300;
/** How long the processes a killed command started may take to end on their own (closed terminal). */
const childrenEndWithinMs = 60_000;

const old = { [kbFile]: "13.3.600.0" };
const current = { [kbFile]: requiredVersion };

type Kill = "process group" | "command only";

interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
}

/** Every process still running (zombies left out), from /proc (Linux). */
function processTable(): ProcessEntry[] {
  return readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    let stat: string;
    try {
      stat = readFileSync(join("/proc", entry, "stat"), "utf8");
    } catch {
      return []; // it ended meanwhile
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so read after the last ")".
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return state === "Z" ? [] : [{ pid: Number(entry), ppid: Number(ppid), pgrp: Number(pgrp) }];
  });
}

/**
 * The processes `pid` started, and theirs, still running. The Pulumi CLI starts its plugins (the
 * provider host among them) in process groups of their own, so the command's group does not hold
 * every process it started.
 */
function descendantsOf(pid: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const child of table.filter((p) => p.ppid === parent)) {
      found.push(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

/** SIGKILL to each process that still runs; one that ended meanwhile is no error. */
function killEach(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
}

/** The processes of a process group still running (zombies left out), from /proc (Linux). */
function groupMembers(pgid: number): number[] {
  return processTable()
    .filter((p) => p.pgrp === pgid)
    .map((p) => p.pid);
}

/** Resolves once none of `pids` runs, or rejects naming those still running at the deadline. */
async function processesEnded(pids: readonly number[], withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const running = processTable().filter((p) => pids.includes(p.pid));
    if (running.length === 0) return;
    if (Date.now() > deadline) {
      killEach(running.map((p) => p.pid));
      throw new Error(
        `processes ${running.map((p) => p.pid).join(", ")} the killed command started still ran after ${withinMs} ms`,
      );
    }
    // Polling /proc: a process that is not our child gives no exit event to wait for.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once no process of the group runs, or rejects naming those still running at the deadline. */
async function groupEnded(pgid: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const members = groupMembers(pgid);
    if (members.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`processes ${members.join(", ")} of the killed command's group still run after ${withinMs} ms`);
    }
    // Polling /proc: a process that is not our child gives no exit event to wait for.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Why an engine of the simulated fleet is out of rotation, in the words the preview uses; empty when it is in. */
function outOfRotationReasons(sim: SimulatedFleet, engine: string): string[] {
  const host = sim.host(engine);
  return [
    ...(host.engine !== "active" ? ["the engine is deactivated"] : []),
    ...(host.complus !== "running" ? ["the COM+ application is stopped"] : []),
  ];
}

/**
 * The invariant: every engine the simulated fleet has out of rotation is named, with why, in the
 * OUT OF ROTATION block of the command's output; returns the engines it found out.
 */
function expectEveryEngineOutNamed(sim: SimulatedFleet, engines: readonly string[], stderr: string): string[] {
  const out = engines.filter((engine) => outOfRotationReasons(sim, engine).length > 0);
  const block = stderr.slice(stderr.indexOf("OUT OF ROTATION"));
  for (const engine of out) {
    expect({ engine, stderr }).toEqual({
      engine,
      stderr: expect.stringContaining(`  ${engine}: ${outOfRotationReasons(sim, engine).join("; ")}`) as unknown,
    });
    expect(block).toContain(`  ${engine}: `);
  }
  return out;
}

/**
 * The up of an operator, in its own process group (`detached`), killed as `kill` says once every
 * one of `engines` has had its `occurrence`-th script named `script` reach its host. Resolves,
 * once the command and every process of its group have ended, with the scripts each engine had
 * started when the kill came.
 */
async function upKilledAt(
  scenario: Scenario,
  engines: readonly string[],
  script: string,
  occurrence: number,
  kill: Kill,
): Promise<{ output: string; killedAtSeq: number; started: Record<string, string[]> }> {
  const command = spawn(
    process.execPath,
    [join(projectRoot, "dist", "cli", "main.js"), "up", "--stack", scenario.stackName],
    { cwd: projectRoot, env: { ...process.env, ...e2eEnv }, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const pid = command.pid;
  if (pid === undefined) throw new Error("mps-hotfix up did not start");
  let output = "";
  command.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  command.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => command.on("exit", () => resolve()));
  const started: Record<string, string[]> = Object.fromEntries(engines.map((engine) => [engine, []]));
  let killedAtSeq = -1;
  /** What the command had started when only it was killed: the provider host must end on its own. */
  const orphans: number[] = [];
  const reached = (engine: string): boolean => started[engine]!.filter((s) => s === script).length >= occurrence;
  const killed = new Promise<void>((resolve) => {
    const stop = scenario.sim.onActivity((activity) => {
      if (activity.kind !== "script-started") return;
      started[activity.host]?.push(activity.script);
      if (!engines.every(reached)) return;
      stop();
      killedAtSeq = scenario.sim.log().length;
      // Synchronously, as the last of the engines starts the script: none has run it yet.
      if (kill === "process group") {
        // As a machine losing power: the command's group, and every process it started in groups of their own.
        const tree = [pid, ...descendantsOf(pid)];
        process.kill(-pid, "SIGKILL");
        killEach(tree);
      } else {
        orphans.push(...descendantsOf(pid));
        process.kill(pid, "SIGKILL");
      }
      resolve();
    });
    // A command that ends before reaching the step fails the case below, with its output.
    void exited.then(() => {
      stop();
      resolve();
    });
  });
  await killed;
  await exited;
  if (killedAtSeq < 0)
    throw new Error(`mps-hotfix up ended before ${engines.join(", ")} started ${script}:\n${output}`);
  await groupEnded(pid, kill === "process group" ? 10_000 : childrenEndWithinMs);
  await processesEnded(orphans, childrenEndWithinMs);
  return { output, killedAtSeq, started };
}

/** The runbook's steps with the occurrence of each script name on the engine during an up (the refresh probes first). */
const runbookSteps = kbRunbookScripts.map((script, index) => {
  const before = ["probe", ...kbRunbookScripts.slice(0, index + 1)];
  return {
    index,
    // The runbook probes again after the install, to verify the files.
    step: script === "probe" && index > 0 ? "verify-files (probe)" : script,
    script,
    occurrence: before.filter((s) => s === script).length,
  };
});

afterAll(() => removeBackend());

const variants: readonly { kill: Kill; steps: typeof runbookSteps }[] = [
  { kill: "process group", steps: runbookSteps },
  // A closed terminal: the command's children are left to end on their own, at the steps that leave the engine out.
  {
    kill: "command only",
    steps: runbookSteps.filter((s) => ["install-package", "activate-engine"].includes(s.step)),
  },
];

describe.each(variants)("mps-hotfix up killed ($kill) during a maintenance", ({ kill, steps }) => {
  let scenario: Scenario;
  let local: LocalStack;
  const engines = ["MPS01", "MPS02"];

  beforeAll(async () => {
    scenario = await startScenario(
      `crash-${kill === "process group" ? "group" : "command"}`,
      {
        stepDelaysMs: { default: stepDelayMs },
        engines: [
          { name: "MPS01", files: current },
          { name: "MPS02", ssh: false, winrmName: "mps02.corp.example", files: current },
        ],
        relays: [{ name: "RELAY01" }],
      },
      // Both engines of the fleet's one pool go down at once on purpose: minInRotation 0 allows it.
      { rollout: { maxUnavailable: 2, minInRotation: 0 } },
    );
    // Both engines managed, so a maintenance is an update of a recorded engine.
    expect((await cli("adopt", "--stack", scenario.stackName)).code).toBe(0);
    const backendDir = localBackendDir(e2eEnv.PULUMI_BACKEND_URL);
    if (backendDir === undefined) throw new Error("the end-to-end backend is not a local one");
    local = { backendDir, project: "mps-hotfix", stack: scenario.stackName };
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  // Both engines are in one batch (rollout.maxUnavailable 2), one reached straight and one through
  // RELAY01, so one killed up is a case for each route.
  it.each(steps)(
    "at $step, on MPS01 (direct) and MPS02 (through RELAY01): preview names each left out, one up restores them",
    async (c) => {
      for (const engine of engines) scenario.sim.alter(engine, { files: old });
      const { output, killedAtSeq, started } = await upKilledAt(scenario, engines, c.script, c.occurrence, kill);
      // Each engine was in the step when the kill came: the refresh's probe, then the runbook up to this step.
      const upToStep = ["probe", ...kbRunbookScripts.slice(0, c.index + 1)];
      expect(started).toEqual(Object.fromEntries(engines.map((engine) => [engine, upToStep])));
      // The command's own output (SIGKILL) names nothing: the invariant rests on what comes next.
      expect(output).not.toContain("Rollout summary:");

      const locks = stackLocks(local);
      const preview: CliResult = await cli("preview", "--stack", scenario.stackName);
      const out = expectEveryEngineOutNamed(scenario.sim, engines, preview.stderr);
      expect(preview.code).toBe(out.length > 0 ? outOfRotationExitCode : 0);
      for (const lock of locks) {
        expect(preview.stderr).toContain(`holds a lock left by a run that no longer exists: ${lock.path}`);
      }

      const up = await cli("up", "--stack", scenario.stackName);
      expect({ code: up.code, stderr: up.code === 0 ? "" : up.stderr }).toEqual({ code: 0, stderr: "" });
      for (const lock of locks) {
        expect(up.stderr).toContain(
          `removed the lock of stack ${scenario.stackName} left by a run that no longer exists: ${lock.path}`,
        );
      }
      expect(stackLocks(local)).toEqual([]);
      for (const name of engines) {
        expect({ [name]: scenario.sim.host(name) }).toMatchObject({
          [name]: { files: current, engine: "active", complus: "running", complusResponding: true },
        });
      }
      expect(engines.filter((engine) => outOfRotationReasons(scenario.sim, engine).length > 0)).toEqual([]);
      // Each engine's scripts since the kill went its own way: MPS02 through RELAY01 only.
      const after = scenario.sim.log().slice(killedAtSeq);
      for (const engine of engines) {
        const via = new Set(after.filter((r) => r.host === engine && r.script !== "connect").map((r) => r.via));
        expect({ [engine]: [...via] }).toEqual({ [engine]: [engine === "MPS02" ? "RELAY01" : undefined] });
      }
    },
  );
});
