import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { projectRoot, pulumiCommand, usualParallelism } from "../cli/workspace";
import { cleanUpAll, cleanUpOnSignals, onCleanup } from "./cleanup";
import { measureFixedCost } from "./fixedCost";
import { MemorySampler } from "./memorySampler";
import { setRunnerExecArgv } from "./operationRunner";
import { benchPreviews } from "./previewBench";
import { evaluateTargets, renderReport, writeResults } from "./report";
import type { BenchResults, SizeResult } from "./results";
import { benchUps } from "./upBench";

/**
 * npm run bench: previews and ups of simulated fleets of 1, 10, 50 and 200 engines, beside the
 * engine's fixed cost and a bare SSH floor, written to bench/results/latest.json.
 *
 *   node dist/bench/run.js [--sizes=1,10,50,200] [--delay-ms=20] [--max-unavailable=1,10] [--runs=3]
 *                          [--cpu-prof-dir=DIR] [--engine-env=NAME=VALUE ...]
 *
 * --cpu-prof-dir writes a V8 CPU profile of every operation runner (the inline program and the
 * Automation API) into DIR. --engine-env adds a variable to the environment of every engine run
 * (for example PULUMI_PARALLEL=32 or PULUMI_SKIP_CHECKPOINTS=true), to see what a setting changes.
 */
interface Options {
  readonly sizes: readonly number[];
  readonly stepDelayMs: number;
  readonly maxUnavailable: readonly number[];
  readonly runs: number;
  readonly cpuProfDir: string | undefined;
  readonly engineEnv: Readonly<Record<string, string>>;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string): string | undefined =>
    argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const list = (name: string, fallback: readonly number[]): number[] => {
    const numbers = (value(name) ?? fallback.join(",")).split(",").map(Number);
    if (numbers.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name} takes positive integers`);
    return numbers;
  };
  const stepDelayMs = Number(value("delay-ms") ?? "20");
  if (!Number.isInteger(stepDelayMs) || stepDelayMs < 1) throw new Error("--delay-ms takes a positive integer");
  return {
    sizes: list("sizes", [1, 10, 50, 200]),
    stepDelayMs,
    maxUnavailable: list("max-unavailable", [1, 10]),
    runs: list("runs", [3])[0]!,
    cpuProfDir: value("cpu-prof-dir"),
    engineEnv: Object.fromEntries(
      argv
        .filter((arg) => arg.startsWith("--engine-env="))
        .map((arg) => {
          const match = /^--engine-env=([A-Z_][A-Z0-9_]*)=(.*)$/.exec(arg);
          if (!match) throw new Error(`--engine-env takes NAME=VALUE, not ${arg.slice(13)}`);
          return [match[1]!, match[2]!];
        }),
    ),
  };
}

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
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
  const sizes: SizeResult[] = [];
  for (const engines of options.sizes) {
    log(`${engines} engines: adopt, preview drifted, preview compliant, SSH floor`);
    const previews = await benchPreviews(engines, {
      env,
      sampler,
      fixedCostMs: fixedCost.previewMs,
      floorRuns: options.runs,
    });
    log(`${engines} engines: ups with maxUnavailable ${options.maxUnavailable.join(", ")}`);
    const { ups, execLatency } = await benchUps(engines, {
      env,
      sampler,
      fixedCostMs: fixedCost.previewMs,
      stepDelayMs: options.stepDelayMs,
      maxUnavailable: options.maxUnavailable,
    });
    sizes.push({ engines, ...previews, ups, execLatency });
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
  };
  const path = join(projectRoot, "bench", "results", "latest.json");
  writeResults(path, results);
  console.log(renderReport(results));
  console.log(`\nresults: ${path}`);
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  })
  .finally(() => cleanUpAll());
