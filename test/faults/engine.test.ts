import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { z } from "zod";
import { projectRoot } from "../../cli/projectRoot";
import { readMsiPackageFile } from "../../components/package/msiPackage";
import { catalog } from "../../components/domain/catalog";
import { engineHotfixesType } from "../../components/engineHotfixes";
import { credentialsKey } from "../../components/provider/stackSettings";
import { simulatedKb952089 } from "../../simulator/simulatedPackage";
import {
  backendText,
  e2eEnv,
  recordOf,
  removeBackend,
  simulatorPassword,
  simulatorUser,
  startScenario,
  type Scenario,
} from "../e2e/scenario";
import { cli, type CliResult } from "../e2e/operatorCli";

/**
 * Faults the real Pulumi engine has to handle, through the Automation API against the simulated
 * fleet: bad stack input (refused before any host is contacted), two updates of one stack at the
 * same time, and secrets that must never reach the state, the output or an error in plain text.
 * Credentials live in the stack's config only: no EngineHotfixes resource holds one, so rotating
 * one changes no resource.
 */

const required = catalog[0]!.files[0]!;
const oldDll = { [required.name]: "13.3.600.0" };
const newDll = { [required.name]: required.version };
/** The resource of an engine, as EngineServer names it. */
const hotfixesOf = (engine: string): string => `fleet-${engine.toLowerCase()}-hotfixes`;

function messageOf(error: unknown): string {
  return typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error);
}

/** The rejection of a promise that must fail, and whatever record the scenario attached to it. */
async function failureOf(run: Promise<unknown>): Promise<{ message: string; error: unknown }> {
  const outcome = await run.then(
    () => ({ failed: false as const, error: undefined }),
    (error: unknown) => ({ failed: true as const, error }),
  );
  if (!outcome.failed) throw new Error("expected the run to fail, and it succeeded");
  return { message: messageOf(outcome.error), error: outcome.error };
}

/** Where the password appears in a text, spelled as it is, in base64 or in hex; undefined when nowhere. */
function passwordLeak(text: string): string | undefined {
  for (const spelling of [
    simulatorPassword,
    Buffer.from(simulatorPassword).toString("base64"),
    Buffer.from(simulatorPassword).toString("hex"),
  ]) {
    const at = text.indexOf(spelling);
    if (at >= 0) return `…${text.slice(Math.max(0, at - 400), at + spelling.length + 100)}…`;
  }
  return undefined;
}

function expectNoPassword(text: string): void {
  expect(passwordLeak(text)).toBeUndefined();
}

/** The stack's `mps-hotfix:credentials`: the simulator's password for each named host. */
function credentialsFor(hosts: readonly string[]): Record<string, { password: string }> {
  return Object.fromEntries(hosts.map((name) => [name, { password: simulatorPassword }]));
}

async function setCredentials(stack: Stack, credentials: Record<string, unknown>): Promise<void> {
  await stack.setConfig(credentialsKey, { value: JSON.stringify(credentials), secret: true });
}

const StateResource = z.looseObject({
  urn: z.string(),
  type: z.string(),
  inputs: z.record(z.string(), z.unknown()).optional(),
  outputs: z.record(z.string(), z.unknown()).optional(),
});
type StateResource = z.infer<typeof StateResource>;

/** The resources of the stack's state, as `pulumi stack export` gives them (secrets encrypted). */
async function stateResources(stack: Stack): Promise<StateResource[]> {
  const exported = await stack.exportStack();
  return z.object({ resources: z.array(StateResource).default([]) }).parse(exported.deployment).resources;
}

const engineHotfixesOf = async (stack: Stack): Promise<StateResource[]> =>
  (await stateResources(stack)).filter((r) => r.type === engineHotfixesType);

/** Paths of whatever would hold a credential in a value: a key for one, or a secret of any kind. */
function credentialPathsIn(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => credentialPathsIn(item, `${path}[${i}]`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => [
    ...(["credentials", "password", "privateKey", pulumi.runtime.specialSigKey, "ciphertext"].includes(key)
      ? [`${path}.${key}`]
      : []),
    ...credentialPathsIn(item, `${path}.${key}`),
  ]);
}

function installsOn(scenario: Scenario, host: string): number {
  return scenario.sim.log().filter((r) => r.host === host && r.script === "install-package").length;
}

afterAll(() => removeBackend());

/**
 * The same inline program and workspace as Scenario.preview, run in a child Node process. A program
 * that throws is reported by the Pulumi SDK through the process's unhandled-rejection hook, which
 * jest would count against this suite; a separate process keeps that where it belongs.
 */
const previewRunner = `
const { openStack } = require(process.env.FAULTS_WORKSPACE_MODULE);
openStack({ stackName: process.env.FAULTS_STACK, env: JSON.parse(process.env.FAULTS_ENGINE_ENV) })
  .then((stack) => {
    const onOutput = (text) => process.stdout.write(text);
    return process.env.FAULTS_OPERATION === "up"
      ? stack.up({ refresh: true, onOutput })
      : stack.preview({ refresh: true, diff: true, onOutput });
  })
  .then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(String(error && error.message));
      process.exit(1);
    },
  );
`;

function previewElsewhere(stackName: string, operation: "preview" | "up" = "preview"): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["-e", previewRunner],
      {
        cwd: projectRoot,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          FAULTS_WORKSPACE_MODULE: join(projectRoot, "dist", "cli", "workspace.js"),
          FAULTS_STACK: stackName,
          FAULTS_OPERATION: operation,
          FAULTS_ENGINE_ENV: JSON.stringify(e2eEnv),
        },
      },
      (error, stdout, stderr) => {
        if (error === null) resolve();
        else reject(new Error(`${operation} of ${stackName} failed:\n${stdout}\n${stderr}`));
      },
    );
  });
}

describe("bad stack input is refused before any host is contacted", () => {
  let scenario: Scenario;
  /** The fleet config startScenario wrote, with real endpoints and pinned keys. */
  let valid: Record<string, unknown>;
  let engines: Record<string, unknown>[];

  beforeAll(async () => {
    scenario = await startScenario("badinput", {
      engines: [
        { name: "MPS01", files: oldDll },
        { name: "MPS02", files: oldDll },
      ],
    });
    valid = scenario.fleetConfig;
    engines = valid["engines"] as Record<string, unknown>[];
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  /**
   * Sets the fleet config (and the credentials, when given), runs a preview, and returns the error
   * text; no host may be contacted.
   */
  async function previewError(
    fleet: Record<string, unknown>,
    credentials?: Record<string, unknown>,
    operation: "preview" | "up" = "preview",
  ): Promise<string> {
    scenario.fleetConfig = fleet;
    await scenario.applyConfig();
    if (credentials !== undefined) await setCredentials(await scenario.stack(), credentials);
    const { message } = await failureOf(previewElsewhere(scenario.stackName, operation));
    expect(message).toContain(
      `stack ${scenario.stackName}: the fleet configuration is invalid; nothing was run on any host:`,
    );
    expect(scenario.sim.connectionCount()).toBe(0);
    expect(scenario.sim.log()).toEqual([]);
    expectNoPassword(message);
    return message;
  }

  test("a missing engine list, and a minimum file version that is not four numbers", async () => {
    const { engines: _engines, ...noEngines } = valid;
    const message = await previewError({ ...noEngines, minimumFileVersions: { "Mapsproccntl.dll": "13.3.609" } });
    expect(message).toMatch(/ {2}- engines: .*expected array/);
    expect(message).toContain(
      "  - minimumFileVersions.Mapsproccntl.dll: must be a file version of four numbers, each 0-65535, such as 13.3.609.1",
    );
  });

  test("an empty engine list", async () => {
    const message = await previewError({ ...valid, engines: [] });
    expect(message).toContain("  - engines: must list at least one engine");
  });

  test("injection characters in an engine's name, host, user and binDir", async () => {
    const message = await previewError({
      ...valid,
      engines: [
        { ...engines[0], name: "MPS01';calc;'" },
        { ...engines[1], host: "127.0.0.1;calc", user: "mps-admin & calc", binDir: "C:\\MPS$(calc)\\Bin" },
      ],
    });
    expect(message).toContain(
      "  - engine MPS01';calc;': engines[0].name: must be an engine name of letters, digits, '.', '_' and '-'",
    );
    expect(message).toContain("  - engine MPS02: engines[1].host: must be a DNS host name or an IPv4 address");
    expect(message).toMatch(/ {2}- engine MPS02: engines\[1\]\.user: must be a user name/);
    expect(message).toMatch(/ {2}- engine MPS02: engines\[1\]\.binDir: must be an absolute Windows directory/);
  });

  test("duplicate names and hosts, an unknown hotfix, a missing secret, a package path that does not exist", async () => {
    const missingPackage = "stacks/demo-packages/missing';calc;'.msi";
    const message = await previewError({
      ...valid,
      packages: { KB952089: { ...simulatedKb952089, path: missingPackage } },
      engines: [
        engines[0],
        { ...engines[1], name: "MPS01" },
        { ...engines[0], name: "MPS02" },
        // No credentials.MPS09 is set: applyConfig writes secrets for the simulated engines only.
        {
          name: "MPS09",
          host: "127.0.0.9",
          port: 22,
          user: simulatorUser,
          trustUnknownHostKey: true,
          hotfixes: ["KB999999"],
        },
      ],
    });
    expect(message).toContain("  - engine MPS01: engines[1].name: duplicate engine name (also engines[0])");
    expect(message).toContain("  - engine MPS02: engines[2].host: duplicate host 127.0.0.1 (also engines[0])");
    expect(message).toContain(
      "  - engine MPS09: engines[3]: missing secret credentials.MPS09 (a password or privateKey)",
    );
    expect(message).toMatch(
      / {2}- engine MPS09: engines\[3\]\.hotfixes\[0\]: unknown hotfix KB999999 \(the catalog has KB952089\)/,
    );
    expect(message).toContain(`  - packages.KB952089.path: no such file: ${join(projectRoot, missingPackage)}`);
  });

  test("a package whose File table carries a file below the requirement: refused in preview and in up", async () => {
    const path = "test/fixtures/packages/KB952089-below.msi";
    const sha256 = createHash("sha256")
      .update(readFileSync(join(projectRoot, path)))
      .digest("hex");
    const below = readMsiPackageFile(join(projectRoot, path)).files[0]!;
    const fleet = { ...valid, packages: { KB952089: { path, sha256 } } };
    const expected =
      `  - packages.KB952089: the KB952089 package ${join(projectRoot, path)} carries ${required.name} ${below.version}; ` +
      `KB952089 requires ${required.version} or later, so it cannot bring an engine to the requirement`;
    expect(await previewError(fleet)).toContain(expected);
    expect(await previewError(fleet, undefined, "up")).toContain(expected);
  });

  test("a missing credential, and one without a password or key: the stack, the engine and the field are named", async () => {
    const message = await previewError(valid, { MPS01: {} });
    expect(message).toContain(
      "  - engine MPS02: engines[1]: missing secret credentials.MPS02 (a password or privateKey)",
    );
    expect(message).toContain("  - credentials.MPS01: needs a password or a privateKey");
  });
});

describe("two updates of one stack at the same time", () => {
  let scenario: Scenario;
  /** The engine output of the update that won the lock. */
  let winnerOutput: string | undefined;

  beforeAll(async () => {
    scenario = await startScenario("lock", {
      engines: [{ name: "MPS01", files: oldDll }],
      stepDelaysMs: { "install-package": 1500 },
    });
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  test("exactly one fails on the backend's lock; the runbook runs once; the stack is usable after", async () => {
    // Two operators: two `mps-hotfix up` processes (one process runs its engine operations one at a time).
    const results = await Promise.all([
      cli("up", "--stack", scenario.stackName),
      cli("up", "--stack", scenario.stackName),
    ]);
    const output = (r: CliResult): string => `${r.stdout}\n${r.stderr}`;
    const failed = results.filter((r) => r.code !== 0);
    const succeeded = results.filter((r) => r.code === 0);
    expect(failed.map((r) => output(r).match(/the stack is currently locked by \d+ lock\(s\)/)?.[0])).toEqual([
      "the stack is currently locked by 1 lock(s)",
    ]);
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0]?.stdout).toMatch(
      /\+ {2}pulumi-nodejs:dynamic\/mpshotfix:EngineHotfixes fleet-mps01-hotfixes created/,
    );
    const loser = failed[0];
    if (loser !== undefined) {
      expect(output(loser)).toContain("Either wait for the other process(es) to end");
      // The loser never reached the engine: it took no step on any resource.
      expect(output(loser)).not.toContain(hotfixesOf("MPS01"));
      expectNoPassword(output(loser));
    }

    expect(installsOn(scenario, "MPS01")).toBe(1);
    expect(scenario.sim.log().filter((r) => r.script === "deactivate-engine")).toHaveLength(1);
    const host = scenario.sim.host("MPS01");
    expect(host.files).toEqual(newDll);
    expect(host.engine).toBe("active");
    expect(host.complus).toBe("running");

    winnerOutput = succeeded[0] === undefined ? undefined : output(succeeded[0]);

    // The lock was released: the next preview runs and has nothing to change.
    const stack = await scenario.stack();
    const preview = await stack.preview({ refresh: true, expectNoChanges: true });
    expect(preview.changeSummary).toEqual({ same: 5 });
  });

  test("the run nobody interrupted does not say it was interrupted", () => {
    // The engine stops its plugins with SIGINT at the end of every run; that is no operator's Ctrl-C.
    expect(winnerOutput).toBeDefined();
    expect(winnerOutput).not.toContain("interrupt received");
  });
});

describe("secrets stay secret through an up and a failed up", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario("secrets", {
      engines: [
        { name: "MPS01", files: oldDll },
        { name: "MPS02", files: newDll },
      ],
    });
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  test("no plaintext password in the state backend, the stack config, the engine output or any error", async () => {
    const outputs: string[] = [];
    const events: EngineEvent[] = [];

    const up = await scenario.up();
    outputs.push(up.output);
    events.push(...up.events);
    expect(up.steps).toEqual({ [hotfixesOf("MPS01")]: "create", [hotfixesOf("MPS02")]: "create" });

    scenario.sim.alter("MPS02", { files: oldDll, faults: { installExitCodes: [1603] } });
    const { message, error } = await failureOf(scenario.up());
    const failed = recordOf(error);
    outputs.push(failed.output);
    events.push(...failed.events);
    expect(failed.output).toContain(
      `engine MPS02: step install-package failed: ${catalog[0]!.id}: msiexec exit code 1603`,
    );
    expect(failed.output).toContain("engine MPS02 is back in rotation");
    expect(scenario.sim.host("MPS02").engine).toBe("active");
    expect(scenario.sim.host("MPS02").complus).toBe("running");

    // No EngineHotfixes resource holds a credential, in its inputs or its outputs, not even encrypted.
    const stack = await scenario.stack();
    const hotfixResources = await engineHotfixesOf(stack);
    expect(hotfixResources.map((r) => r.urn.split("::").pop())).toEqual([hotfixesOf("MPS01"), hotfixesOf("MPS02")]);
    for (const resource of hotfixResources) {
      expect(credentialPathsIn(resource.inputs)).toEqual([]);
      expect(credentialPathsIn(resource.outputs)).toEqual([]);
    }
    // The stack's credentials reach the state only as the dynamic provider's config, encrypted.
    const holders = (await stateResources(stack)).filter((r) => JSON.stringify(r).includes(credentialsKey));
    expect(holders.map((r) => r.type)).toEqual(["pulumi:providers:pulumi-nodejs"]);
    expect(holders[0]?.inputs?.[credentialsKey]).toEqual(
      expect.objectContaining({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig }),
    );
    // And no state file (checkpoints, history, backups) holds the password's text.
    const state = backendText();
    expect(state).toContain('"ciphertext"');
    expectNoPassword(state);
    expectNoPassword(readFileSync(join(projectRoot, "stacks", `Pulumi.${scenario.stackName}.yaml`), "utf8"));
    expectNoPassword(message);
    expectNoPassword(outputs.join("\n"));
    // Debug diagnostics are left out: the Pulumi SDK logs each RegisterResource response at debug
    // level with its secret outputs decrypted, which only `--debug` or verbose logging shows.
    // (The SDK's event type leaves "debug" out of the severities, but the engine sends it.)
    const shown = events.filter((e) => {
      const severity: string | undefined = e.diagnosticEvent?.severity;
      return severity !== "debug";
    });
    expectNoPassword(JSON.stringify(shown));
  });
});

describe("rotating a credential changes no resource", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario("rotate", {
      engines: [
        { name: "MPS01", files: oldDll },
        { name: "MPS02", files: newDll },
      ],
    });
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  test("a changed mps-hotfix:credentials leaves every EngineHotfixes input as it was; the next preview has no changes", async () => {
    const up = await scenario.up();
    expect(up.steps).toEqual({ [hotfixesOf("MPS01")]: "create", [hotfixesOf("MPS02")]: "create" });
    const stack = await scenario.stack();
    const before = await engineHotfixesOf(stack);
    expect(before).toHaveLength(2);

    // The simulator accepts one password per fleet: the rotation adds a credential of a host
    // that is being retired, so the value changes while every engine still logs on.
    const retiredSecret = "retired-host-password-Vb3m";
    const rotated = { ...credentialsFor(["MPS01", "MPS02"]), RETIRED01: { password: retiredSecret } };
    await setCredentials(stack, rotated);
    expect(JSON.parse((await stack.getConfig(credentialsKey)).value)).toEqual(rotated);

    const connectionsBefore = scenario.sim.connectionCount();
    const preview = await stack.preview({ refresh: true, expectNoChanges: true });
    expect(preview.changeSummary).toEqual({ same: 7 });
    // The preview's refresh probed both engines: the rotated config logged on.
    expect(scenario.sim.connectionCount()).toBeGreaterThan(connectionsBefore);

    const after = await scenario.up();
    expect(Object.values(after.steps).every((op) => op === "same")).toBe(true);
    expect(installsOn(scenario, "MPS01")).toBe(1);
    expect(installsOn(scenario, "MPS02")).toBe(0);
    const inputsOf = (resources: readonly StateResource[]): Record<string, unknown> =>
      Object.fromEntries(resources.map((r) => [r.urn, r.inputs]));
    expect(inputsOf(await engineHotfixesOf(stack))).toEqual(inputsOf(before));
    const state = backendText();
    expect(state).not.toContain(retiredSecret);
    expectNoPassword(state);
    expectNoPassword(after.output);
  });
});
