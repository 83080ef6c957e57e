import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { projectRoot } from "../cli/projectRoot";
import { pulumiCommand } from "../cli/pulumiToolchain";
import { usualParallelism } from "../cli/workspace";
import { ansibleInstallHint, ansibleSettings, findAnsible } from "./ansible";
import { measureAnsibleFixedCost, type AnsibleContext } from "./ansiblePeer";
import { ansibleSshCommonArgs } from "./ansiblePlaybooks";
import { cleanUpAll, cleanUpOnSignals, onCleanup } from "./cleanup";
import { measureFixedCost } from "./fixedCost";
import { MemorySampler } from "./memorySampler";
import { setRunnerExecArgv } from "./operationRunner";
import { benchPreviews } from "./previewBench";
import { checkBenchVersions } from "./fleets";
import { parseOptions } from "./options";
import { compareWithAnsible, evaluateTargets, renderReport, writeResults } from "./report";
import type { AnsibleInfo, BenchResults, SizeResult } from "./results";
import { benchUps } from "./upBench";

/** Fleets up to this size run each preview, up and Ansible run --runs times and keep the median run. */
const repeatedUpTo = 10;

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/**
 * npm run bench: previews and ups of simulated fleets of 1, 10, 50 and 200 engines, beside the
 * engine's fixed cost, a bare SSH floor and Ansible doing the same work on the same fleets,
 * written to bench/results/latest.json.
 *
 *   node dist/bench/run.js [--sizes=1,10,50,200] [--delay-ms=20] [--max-unavailable=1,10] [--runs=3]
 *                          [--cpu-prof-dir=DIR] [--engine-env=NAME=VALUE ...] [--no-ansible]
 *
 * Options take their value after `=` or as the next argument (`--sizes 1,10`). --no-ansible
 * leaves Ansible out even where it is installed.
 *
 * --cpu-prof-dir writes a V8 CPU profile of every operation runner (the inline program and the
 * Automation API) into DIR. --engine-env adds a variable to the environment of every engine run
 * (for example PULUMI_PARALLEL=32 or PULUMI_SKIP_CHECKPOINTS=true), to see what a setting changes.
 */
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  checkBenchVersions();
  cleanUpOnSignals();
  if (options.cpuProfDir !== undefined) {
    setRunnerExecArgv(["--cpu-prof", `--cpu-prof-dir=${resolve(options.cpuProfDir)}`]);
  }
  const pulumi = await pulumiCommand();
  const startedAt = new Date();
  const loadBefore = loadavg()[0]!;
  const backendDir = mkdtempSync(join(tmpdir(), "mps-hotfix-bench-state-"));
  onCleanup("state backend", () => rmSync(backendDir, { recursive: true, force: true }));
  const env = {
    ...options.engineEnv,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "mps-hotfix-bench",
  };
  const sampler = MemorySampler.start();
  onCleanup("memory sampler", () => sampler.stop());

  log("fixed cost: previews of an empty stack");
  const fixedCost = await measureFixedCost(env, sampler, options.runs);

  let ansible: AnsibleContext | undefined;
  let ansibleInfo: AnsibleInfo;
  const found = findAnsible();
  if (!options.ansible) {
    ansibleInfo = { available: false, reason: "--no-ansible", missing: [], install: ansibleInstallHint };
  } else if (!found.available) {
    log(`Ansible columns skipped: ${found.missing.join(", ")} not found; to measure them: ${found.install}`);
    ansibleInfo = { ...found, reason: "not installed" };
  } else {
    log(`Ansible fixed cost: ansible-playbook of a play without tasks (${found.tools.version})`);
    const ansibleFixed = await measureAnsibleFixedCost(found.tools, sampler, options.runs);
    ansible = { tools: found.tools, sampler, fixedCostMs: ansibleFixed.ms };
    ansibleInfo = {
      available: true,
      version: found.tools.version,
      fixedCost: ansibleFixed,
      environment: ansibleSettings,
      sshCommonArgs: ansibleSshCommonArgs,
    };
  }
  const sizes: SizeResult[] = [];
  for (const engines of options.sizes) {
    // Where one run's noise is as large as the difference: each operation --runs times, the median kept.
    const repeats = engines <= repeatedUpTo ? options.runs : 1;
    log(`${engines} engines: adopt, preview drifted, preview compliant, SSH floor${ansible ? ", Ansible probe" : ""}`);
    const previews = await benchPreviews(engines, {
      env,
      sampler,
      fixedCostMs: fixedCost.previewMs,
      floorRuns: options.runs,
      repeats,
      ansible,
    });
    log(
      `${engines} engines: ups with maxUnavailable ${options.maxUnavailable.join(", ")}` +
        (ansible ? `, playbooks with serial ${options.maxUnavailable.join(", ")}` : ""),
    );
    const { ups, ansibleUps, execLatency } = await benchUps(engines, {
      env,
      sampler,
      fixedCostMs: fixedCost.previewMs,
      stepDelayMs: options.stepDelayMs,
      maxUnavailable: options.maxUnavailable,
      repeats,
      ansible,
    });
    sizes.push({ engines, ...previews, ups, ansibleUps, execLatency });
  }

  const cpus = availableParallelism();
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    machine: {
      cpus,
      memoryBytes: totalmem(),
      node: process.version,
      pulumi: pulumi.version?.toString() ?? "unknown",
      engineParallelism: usualParallelism(options.engineEnv),
      loadAverage: { before: loadBefore, after: loadavg()[0]! },
    },
    stepDelayMs: options.stepDelayMs,
    engineEnv: options.engineEnv,
    fixedCost,
    sizes,
    targets: evaluateTargets(sizes),
    ansible: ansibleInfo,
    besideAnsible: compareWithAnsible(sizes),
  };
  const path = join(projectRoot, "bench", "results", "latest.json");
  writeResults(path, results);
  console.log(renderReport(results));
  console.log(`\nresults: ${path}`);
  if (!ansibleInfo.available && ansibleInfo.reason === "not installed") {
    console.log(`Ansible columns skipped (${ansibleInfo.missing.join(", ")} not found): ${ansibleInfo.install}`);
  }
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  })
  .finally(() => cleanUpAll());
