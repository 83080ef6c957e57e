#!/usr/bin/env node
import { createWriteStream } from "node:fs";
import { loadFleetFile } from "./fleetFile";
import { startSimulatedFleet } from "./server";

const usage = "usage: node dist/simulator/cli.js --fleet <fleet.yaml> [--log <steps.jsonl>]";

interface Arguments {
  readonly fleet: string;
  readonly log: string | undefined;
}

function parseArguments(argv: readonly string[]): Arguments {
  let fleet: string | undefined;
  let log: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = argv[index + 1];
    if ((flag === "--fleet" || flag === "--log") && value !== undefined && !value.startsWith("--")) {
      if (flag === "--fleet") fleet = value;
      else log = value;
      index++;
    } else {
      throw new Error(`unexpected argument ${JSON.stringify(flag)}\n${usage}`);
    }
  }
  if (fleet === undefined) throw new Error(`--fleet is required\n${usage}`);
  return { fleet, log };
}

/** What the command writes to: its standard output and error, or a test's stand-ins. */
export interface CliOutput {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Starts the fleet a command line names, prints its hosts and streams its steps; returns its stop. */
export async function runSimulatorCli(
  argv: readonly string[],
  output: CliOutput,
): Promise<{ stop: () => Promise<void> }> {
  const args = parseArguments(argv);
  const fleetFile = loadFleetFile(args.fleet);
  const fleet = await startSimulatedFleet(fleetFile);

  const width = Math.max(
    ...fleet.hosts.map((host) => host.name.length),
    ...fleetFile.engines.map((engine) => engine.name.length),
  );
  for (const host of fleet.hosts) {
    output.stdout.write(
      `${host.name.padEnd(width)}  ${host.kind.padEnd(6)}  ${`${host.address}:${host.port}`.padEnd(21)}  ${host.hostKeySha256}\n`,
    );
  }
  for (const engine of fleetFile.engines.filter((candidate) => !candidate.ssh)) {
    output.stdout.write(
      `${engine.name.padEnd(width)}  engine  (no SSH; reached through a relay as ${engine.winrmName ?? engine.name})\n`,
    );
  }

  const steps: NodeJS.WritableStream =
    args.log === undefined ? output.stdout : createWriteStream(args.log, { flags: "a" });
  const unsubscribe = fleet.onStep((record) => steps.write(`${JSON.stringify(record)}\n`));
  // A step log that cannot be written (a full disk, a reader of the pipe that quit) emits 'error',
  // which with no listener is thrown (Node's events docs, "Error events") and would take down
  // every simulated host; the fleet serves on without its log, and says so once.
  let logStopped = false;
  steps.on("error", (error: Error) => {
    unsubscribe();
    if (logStopped) return;
    logStopped = true;
    output.stderr.write(`the step log stopped: ${error.message}; the simulated fleet keeps running\n`);
  });
  output.stderr.write(`simulated fleet running; step log to ${args.log ?? "stdout"}; stop with Ctrl-C\n`);

  return {
    stop: async () => {
      await fleet.stop();
      unsubscribe();
      if (steps !== output.stdout) await new Promise<void>((resolve) => steps.end(resolve));
    },
  };
}

async function main(): Promise<void> {
  const { stop } = await runSimulatorCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: stopping the simulated fleet\n`);
    void stop();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
}
