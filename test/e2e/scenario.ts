import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent, OpType, Stack } from "@pulumi/pulumi/automation";
import type { z } from "zod";
import { hotfixSteps } from "../../cli/hotfixSteps";
import { openStack, previewFleet, upFleet, withStack } from "../../cli/workspace";
import { projectRoot } from "../../cli/projectRoot";
import { findHotfix } from "../../components/domain/catalog";
import { FleetFile } from "../../simulator/fleetFile";
import { startSimulatedFleet, type SimulatedFleet } from "../../simulator/server";
import { simulatedKb952089 } from "../../simulator/simulatedPackage";

export const simulatorUser = "mps-admin";
export const simulatorPassword = "e2e-simulated-password-7f3a";

const kb952089File = findHotfix("KB952089")?.files[0];
if (kb952089File === undefined) throw new Error("the built-in catalog has no KB952089 file");
/** The file KB952089 replaces, and the version the catalog requires of it (the one its package installs). */
export const kbFile: string = kb952089File.name;
export const requiredVersion: string = kb952089File.version;

/** A fleet file for the simulator, as written in YAML (defaults not yet applied). */
export type FleetInput = Omit<z.input<typeof FleetFile>, "credentials">;

/** What one engine operation did, read from the engine's own events. */
export interface OperationRecord {
  /** Resource name => the step the engine took for it, for EngineHotfixes resources. */
  readonly steps: Readonly<Record<string, OpType>>;
  readonly output: string;
  readonly events: readonly EngineEvent[];
}

export interface ScenarioOptions {
  /** Rollout settings over the scenario's quick ones. */
  readonly rollout?: Record<string, unknown>;
  /** Fleet settings over the scenario's (hotfixes, packages, catalog); engines and relays come from the simulator. */
  readonly fleet?: Record<string, unknown>;
  /**
   * How the stack checks host keys: each simulated host's own key, pinned (the default), or
   * trustUnknownHostKey, as release 0.1's lab stacks were written.
   */
  readonly hostKeys?: "pinned" | "trust-unknown";
}

export interface Scenario {
  readonly sim: SimulatedFleet;
  readonly stackName: string;
  /** What applyConfig writes as the stack's secret `mps-hotfix:credentials`: every engine's and relay's password. */
  readonly credentials: Readonly<Record<string, { readonly password: string }>>;
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

/** Resource name => the engine's step, for the EngineHotfixes resources of one operation. */
function stepsByName(events: readonly EngineEvent[]): Record<string, OpType> {
  return Object.fromEntries(hotfixSteps(events).map((step) => [step.name, step.op]));
}

let counter = 0;

/**
 * A simulated fleet and a fresh stack that manages it. Engines with SSH are reached straight;
 * engines without it through the fleet's one relay, by their WinRM name.
 */
export async function startScenario(
  label: string,
  fleet: FleetInput,
  options: ScenarioOptions = {},
): Promise<Scenario> {
  const sim = await startSimulatedFleet(
    FleetFile.parse({ ...fleet, credentials: { user: simulatorUser, password: simulatorPassword } }),
  );
  const stackName = `test-${label}-${process.pid}-${++counter}`;
  const endpoint = (name: string): Record<string, unknown> => {
    const host = sim.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no simulated host ${name}`);
    const keyPolicy =
      options.hostKeys === "trust-unknown" ? { trustUnknownHostKey: true } : { hostKey: host.hostKeySha256 };
    return { name, host: host.address, port: host.port, user: simulatorUser, ...keyPolicy };
  };
  const relayNames = (fleet.relays ?? []).map((r) => r.name);
  const engineEntry = (engine: FleetInput["engines"][number]): Record<string, unknown> => {
    if (engine.ssh !== false) return endpoint(engine.name);
    const [relay, ...others] = relayNames;
    if (relay === undefined || others.length > 0) {
      throw new Error(`engine ${engine.name} has no SSH: the scenario needs exactly one relay to reach it`);
    }
    return { name: engine.name, host: engine.winrmName ?? engine.name, relay };
  };
  const credentials = Object.fromEntries(
    [...fleet.engines.map((e) => e.name), ...relayNames].map((name) => [name, { password: simulatorPassword }]),
  );
  const scenario: Scenario = {
    sim,
    stackName,
    credentials,
    fleetConfig: {
      hotfixes: ["KB952089"],
      packages: { KB952089: simulatedKb952089 },
      ...options.fleet,
      rollout: {
        stepTimeoutSeconds: 20,
        connectTimeoutSeconds: 5,
        installRetryDelaySeconds: 0.05,
        ...options.rollout,
      },
      relays: relayNames.map(endpoint),
      engines: fleet.engines.map(engineEntry),
    },
    async stack(adoptOnly = false) {
      return openStack({ stackName, adoptOnly, env: e2eEnv });
    },
    async applyConfig() {
      const stack = await scenario.stack();
      await withStack(stack, () =>
        stack.setAllConfig({
          "mps-hotfix:fleet": { value: JSON.stringify(scenario.fleetConfig) },
          "mps-hotfix:credentials": { value: JSON.stringify(credentials), secret: true },
        }),
      );
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
    async up(upOptions = {}) {
      const events: EngineEvent[] = [];
      let output = "";
      const stack = await scenario.stack(upOptions.adoptOnly === true);
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

/** The scripts a simulated host ran, in order, from the step log's record `since` on (connections left out). */
export function scriptsOn(sim: SimulatedFleet, host: string, since = 0): string[] {
  return sim
    .log()
    .slice(since)
    .filter((r) => r.host === host && r.script !== "connect")
    .map((r) => r.script);
}

/** The operation record attached to an error thrown by Scenario.up. */
export function recordOf(error: unknown): OperationRecord {
  const record = (error as { record?: OperationRecord }).record;
  if (!record) throw error;
  return record;
}

/**
 * The scenario of a describe block: started before its tests, then disposed with the backend
 * removed after them. Call it in the block's body; its tests read the scenario with the getter.
 */
export function scenarioFor(label: string, fleet: FleetInput, options: ScenarioOptions = {}): () => Scenario {
  let scenario: Scenario | undefined;
  beforeAll(async () => {
    scenario = await startScenario(label, fleet, options);
  });
  afterAll(async () => {
    await scenario?.dispose();
    removeBackend();
  });
  return () => {
    if (scenario === undefined) throw new Error(`the scenario ${label} did not start (see beforeAll's error)`);
    return scenario;
  };
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
