import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent, OpType, Stack } from "@pulumi/pulumi/automation";
import type { z } from "zod";
import { hotfixSteps } from "../../cli/hotfixSteps";
import { openStack, previewFleet, projectRoot, upFleet } from "../../cli/workspace";
import { FleetFile } from "../../simulator/fleetFile";
import { startSimulatedFleet, type SimulatedFleet } from "../../simulator/server";
import { simulatedKb952089 } from "../../simulator/simulatedPackage";

export const simulatorUser = "mps-admin";
export const simulatorPassword = "e2e-simulated-password-7f3a";

/** A fleet file for the simulator, as written in YAML (defaults not yet applied). */
export type FleetInput = Omit<z.input<typeof FleetFile>, "credentials">;

/** What one engine operation did, read from the engine's own events. */
export interface OperationRecord {
  /** Resource name => the step the engine took for it, for HotfixOnEngine resources. */
  readonly steps: Readonly<Record<string, OpType>>;
  readonly output: string;
  readonly events: readonly EngineEvent[];
}

export interface Scenario {
  readonly sim: SimulatedFleet;
  readonly stackName: string;
  /** The stack's fleet config; tests may change it and call applyConfig(). */
  fleetConfig: Record<string, unknown>;
  applyConfig(): Promise<void>;
  stack(adoptOnly?: boolean): Promise<Stack>;
  preview(): Promise<OperationRecord>;
  up(options?: { adoptOnly?: boolean }): Promise<OperationRecord>;
  refresh(): Promise<OperationRecord>;
  dispose(): Promise<void>;
}

const backendDir = mkdtempSync(join(tmpdir(), "mps-hotfix-e2e-state-"));
export const e2eEnv = {
  PULUMI_BACKEND_URL: `file://${backendDir}`,
  PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
};

/** Resource name => the engine's step, for the HotfixOnEngine resources of one operation. */
function stepsByName(events: readonly EngineEvent[]): Record<string, OpType> {
  return Object.fromEntries(hotfixSteps(events).map((step) => [step.name, step.op]));
}

let counter = 0;

/** A simulated fleet and a fresh stack that manages it, with pinned host keys. */
export async function startScenario(
  label: string,
  fleet: FleetInput,
  rollout: Record<string, unknown> = {},
): Promise<Scenario> {
  const sim = await startSimulatedFleet(
    FleetFile.parse({ ...fleet, credentials: { user: simulatorUser, password: simulatorPassword } }),
  );
  const stackName = `test-${label}-${process.pid}-${++counter}`;
  const endpoint = (name: string): { host: string; port: number; hostKey: string } => {
    const host = sim.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no simulated host ${name}`);
    return { host: host.address, port: host.port, hostKey: host.hostKeySha256 };
  };
  const relays = (fleet.relays ?? []).map((r) => ({ name: r.name, user: simulatorUser, ...endpoint(r.name) }));
  const scenario: Scenario = {
    sim,
    stackName,
    fleetConfig: {
      hotfixes: ["KB952089"],
      packages: { KB952089: simulatedKb952089 },
      rollout: { stepTimeoutSeconds: 20, connectTimeoutSeconds: 5, installRetryDelaySeconds: 0.05, ...rollout },
      relays,
      engines: fleet.engines.map((engine) => ({ name: engine.name, user: simulatorUser, ...endpoint(engine.name) })),
    },
    async stack(adoptOnly = false) {
      return openStack({ stackName, adoptOnly, env: e2eEnv });
    },
    async applyConfig() {
      const stack = await scenario.stack();
      const credentials = Object.fromEntries(
        [...fleet.engines.map((e) => e.name), ...(fleet.relays ?? []).map((r) => r.name)].map((name) => [
          name,
          { password: simulatorPassword },
        ]),
      );
      await stack.setAllConfig({
        "mps-hotfix:fleet": { value: JSON.stringify(scenario.fleetConfig) },
        "mps-hotfix:credentials": { value: JSON.stringify(credentials), secret: true },
      });
    },
    async preview() {
      const events: EngineEvent[] = [];
      let output = "";
      const stack = await scenario.stack();
      await previewFleet(stack, {
        diff: true,
        onEvent: (e) => events.push(e),
        onOutput: (s) => (output += s),
      });
      return { steps: stepsByName(events), output, events };
    },
    async up(options = {}) {
      const events: EngineEvent[] = [];
      let output = "";
      const stack = await scenario.stack(options.adoptOnly === true);
      try {
        await upFleet(stack, { onEvent: (e) => events.push(e), onOutput: (s) => (output += s) });
      } catch (error) {
        throw Object.assign(error as Error, { record: { steps: stepsByName(events), output, events } });
      }
      return { steps: stepsByName(events), output, events };
    },
    async refresh() {
      const events: EngineEvent[] = [];
      let output = "";
      const stack = await scenario.stack();
      await stack.refresh({ onEvent: (e) => events.push(e), onOutput: (s) => (output += s) });
      return { steps: stepsByName(events), output, events };
    },
    async dispose() {
      await sim.stop();
      const stack = await scenario.stack();
      await stack.workspace.removeStack(stackName, { force: true });
      rmSync(join(projectRoot, "stacks", `Pulumi.${stackName}.yaml`), { force: true });
    },
  };
  await scenario.applyConfig();
  return scenario;
}

/** The operation record attached to an error thrown by Scenario.up. */
export function recordOf(error: unknown): OperationRecord {
  const record = (error as { record?: OperationRecord }).record;
  if (!record) throw error;
  return record;
}

export function removeBackend(): void {
  rmSync(backendDir, { recursive: true, force: true });
}

/** Every file of the e2e state backend, as text: what a leaked secret would be found in. */
export function backendText(): string {
  const texts: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else texts.push(readFileSync(path, "utf8"));
    }
  };
  walk(backendDir);
  return texts.join("\n");
}
