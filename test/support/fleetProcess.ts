import { spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { SimulatedHost } from "../../simulator/server";
import type { StepRecord } from "../../simulator/stepLog";

/**
 * The simulated fleet as `npm run simulator` runs it: `node dist/simulator/cli.js` in a process of
 * its own (npm test builds dist first), its hosts read from the lines it prints first and its step
 * log from the JSON lines after. A test that measures its own process (memory, say) runs the fleet
 * here, so the simulated hosts' work does not count.
 */
export interface FleetProcess {
  /** The hosts that listen for SSH, as the command printed them. */
  readonly hosts: readonly SimulatedHost[];
  /** Every step record printed so far. */
  readonly records: () => readonly StepRecord[];
  /** The next line of standard output that `matches`, or a rejection naming stderr if the process exits first. */
  readonly nextLine: (matches: (line: string) => boolean) => Promise<string>;
  /** What the process wrote to stderr so far. */
  readonly stderr: () => string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Stops the process (SIGTERM) and removes its fleet file. */
  readonly stop: () => Promise<void>;
}

const hostLine = /^(\S+) +(engine|relay) +([0-9.]+):(\d+) +(SHA256:\S+)$/;

export async function startFleetProcess(fleetYaml: string): Promise<FleetProcess> {
  const cli = join(__dirname, "..", "..", "dist", "simulator", "cli.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npm run build; npm test does it)`);
  const dir = mkdtempSync(join(tmpdir(), "simulator-process-"));
  const fleetPath = join(dir, "fleet.yaml");
  writeFileSync(fleetPath, fleetYaml);
  const child = spawn(process.execPath, [cli, "--fleet", fleetPath], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const hosts: SimulatedHost[] = [];
  const records: StepRecord[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const host = hostLine.exec(line);
    if (host !== null) {
      const [, name = "", kind, address = "", port = "", hostKeySha256 = ""] = host;
      hosts.push({ name, kind: kind === "relay" ? "relay" : "engine", address, port: Number(port), hostKeySha256 });
    }
    if (line.startsWith("{")) records.push(JSON.parse(line) as StepRecord);
  });
  const exited = once(child, "exit");
  const running = new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      if (stderr.includes("simulated fleet running")) resolve();
    });
    void exited.then(() => reject(new Error(`the simulator exited before it ran; stderr:\n${stderr}`)));
  });
  await running;

  return {
    hosts,
    records: () => records,
    stderr: () => stderr,
    child,
    nextLine: (matches) =>
      new Promise((resolve, reject) => {
        const onLine = (line: string): void => {
          if (!matches(line)) return;
          lines.off("line", onLine);
          child.off("exit", onExit);
          resolve(line);
        };
        const onExit = (code: number | null, signal: string | null): void =>
          reject(new Error(`the simulator exited (${code ?? signal ?? "?"}) before the line; stderr:\n${stderr}`));
        lines.on("line", onLine);
        child.once("exit", onExit);
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
