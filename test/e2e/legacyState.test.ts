import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Deployment, EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { isHotfixResource } from "../../cli/hotfixSteps";
import { previewFleet } from "../../cli/workspace";
import { projectRoot } from "../../cli/projectRoot";
import { engineHotfixesType, legacyHotfixOnEngineType } from "../../components/engineHotfixes";
import { rolloutResultType } from "../../components/rolloutResult";
import { stateSchemaVersion } from "../../components/provider/resourceState";
import { credentialsKey } from "../../components/provider/stackSettings";
import { kbRunbookScripts } from "../support/kbRunbook";
import { kbFile, removeBackend, requiredVersion, scriptsOn, startScenario, type Scenario } from "./scenario";

/** The state release 0.1 wrote for its stack `release-0-1-0`: three engines, one adopted HotfixOnEngine each. */
const fixturePath = join(projectRoot, "test", "fixtures", "state", "release-0.1.0.json");
const fixtureStack = "release-0-1-0";

/** What the fixture's engines have, as its state records it. */
const versions = { MPS01: "13.3.600.0", MPS02: "13.3.609.1", MPS03: "13.3.1000.0" };
const engines = ["MPS01", "MPS02", "MPS03"] as const;

interface StoredResource {
  readonly urn: string;
  readonly type: string;
  readonly id?: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
}

function resourcesOf(deployment: Deployment): StoredResource[] {
  return (deployment.deployment as { resources?: StoredResource[] }).resources ?? [];
}

/** How a deployment marks a secret value (Pulumi's special signature key and its secret signature). */
const secretValue = (plaintext: unknown): Record<string, string> => ({
  "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  plaintext: JSON.stringify(plaintext),
});

/** The part of a stack's settings file (stacks/Pulumi.<stack>.yaml) that the passphrase provider keeps. */
const StackFile = z.object({ encryptionsalt: z.string() });

/**
 * Release 0.1's state, moved to the test's stack: the stack name in every URN, and the stack's
 * credentials put back into the default provider's config, where release 0.1 had them too (the
 * fixture's were stripped; a refresh configures the provider from its state, not from the stack's
 * current config). A deployment that holds a secret names the secrets provider that encrypts it:
 * the stack's passphrase provider, with the stack's salt.
 */
function releaseStateFor(scenario: Scenario): Deployment {
  const text = readFileSync(fixturePath, "utf8").split(fixtureStack).join(scenario.stackName);
  const moved = JSON.parse(text) as Deployment;
  const stackFile = join(projectRoot, "stacks", `Pulumi.${scenario.stackName}.yaml`);
  const { encryptionsalt: salt } = StackFile.parse(parseYaml(readFileSync(stackFile, "utf8")));
  (moved.deployment as Record<string, unknown>)["secrets_providers"] = { type: "passphrase", state: { salt } };
  const credentials = secretValue(JSON.stringify(scenario.credentials));
  for (const resource of resourcesOf(moved)) {
    if (resource.type !== "pulumi:providers:pulumi-nodejs") continue;
    for (const props of [resource.inputs, resource.outputs]) if (props) props[credentialsKey] = credentials;
  }
  return moved;
}

/** A resource for an engine's hotfixes, of either release. */
const hotfixResource = (r: { readonly type: string }): boolean =>
  r.type === engineHotfixesType || r.type === legacyHotfixOnEngineType;
const nameOf = (urn: string): string => urn.split("::").pop() ?? urn;

/** The engine's steps of one operation, refreshes left out. */
function stepsOf(events: readonly EngineEvent[]): StepEventMetadata[] {
  return events.flatMap((e) => {
    const metadata = e.resourcePreEvent?.metadata;
    return metadata !== undefined && metadata.op !== "refresh" ? [metadata] : [];
  });
}

/** Per EngineHotfixes step, by name: its op, and the type, name and id of the stored resource it was taken for. */
function aliasesOf(events: readonly EngineEvent[]): (string | undefined)[][] {
  return stepsOf(events)
    .filter((m) => isHotfixResource(m.type))
    .map((m) => [nameOf(m.urn), m.op, m.old?.type, m.old && nameOf(m.old.urn), m.old?.id])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

/**
 * Each engine's resource matched to release 0.1's resource by its alias, and the op taken on it.
 * The refresh runs the program, so the engine has already moved the aliased state to the new name
 * and type when the step starts; release 0.1's id (`MPS01/KB952089`) shows it is that resource,
 * carried over rather than created anew.
 */
function matchedByAlias(ops: readonly [string, string, string]): (string | undefined)[][] {
  return engines.map((engine, i) => {
    const name = `fleet-${engine.toLowerCase()}`;
    return [`${name}-hotfixes`, ops[i], engineHotfixesType, `${name}-hotfixes`, `${engine}/KB952089`];
  });
}

/** Steps that create, delete or replace anything: op, type, name. */
function creationsOrDeletions(events: readonly EngineEvent[]): string[][] {
  return stepsOf(events)
    .filter((m) => m.op !== "same" && m.op !== "update")
    .map((m) => [m.op, m.type, nameOf(m.urn)]);
}

describe("a stack whose state release 0.1 wrote", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario(
      "legacy",
      {
        engines: [
          { name: "MPS01", address: "127.0.71.1", port: 2222, files: { [kbFile]: versions.MPS01 } },
          { name: "MPS02", address: "127.0.71.2", port: 2222, files: { [kbFile]: versions.MPS02 } },
          { name: "MPS03", ssh: false, winrmName: "mps03.corp.example", files: { [kbFile]: versions.MPS03 } },
        ],
        relays: [{ name: "RELAY01", address: "127.0.71.9", port: 2222 }],
      },
      { hostKeys: "trust-unknown" },
    );
    const stack = await scenario.stack();
    await stack.importStack(releaseStateFor(scenario));
  });
  afterAll(async () => {
    await scenario.dispose();
    removeBackend();
  });

  it("imports as release 0.1's per-hotfix resources", async () => {
    const imported = resourcesOf(await (await scenario.stack()).exportStack()).filter(hotfixResource);
    expect(imported.map((r) => [r.type, nameOf(r.urn), r.id])).toEqual(
      engines.map((e) => [legacyHotfixOnEngineType, `fleet-${e.toLowerCase()}-kb952089`, `${e}/KB952089`]),
    );
  });

  it("previews the engines below the requirement as updates of the aliased resources, with no manual step", async () => {
    const preview = await scenario.preview();
    expect(preview.steps).toEqual({
      "fleet-mps01-hotfixes": "update",
      "fleet-mps02-hotfixes": "update",
      "fleet-mps03-hotfixes": "same",
    });
    expect(preview.output).toContain(`${kbFile}: "${versions.MPS01}" => "${requiredVersion}"`);
    expect(preview.output).toContain(`${kbFile}: "${versions.MPS02}" => "${requiredVersion}"`);
    expect(preview.output).not.toContain(`"${versions.MPS03}" =>`);
    // Each step carries release 0.1's resource: matched by its alias, so nothing is created or deleted
    // but the RolloutResult, which release 0.1 did not have.
    expect(aliasesOf(preview.events)).toEqual(matchedByAlias(["update", "update", "same"]));
    expect(creationsOrDeletions(preview.events)).toEqual([["create", rolloutResultType, "fleet-result"]]);
  });

  it("converges with an up, touching only the engines below the requirement", async () => {
    const before = scenario.sim.log().length;
    const up = await scenario.up();
    expect(up.steps).toEqual({
      "fleet-mps01-hotfixes": "update",
      "fleet-mps02-hotfixes": "update",
      "fleet-mps03-hotfixes": "same",
    });
    expect(aliasesOf(up.events)).toEqual(matchedByAlias(["update", "update", "same"]));
    expect(creationsOrDeletions(up.events)).toEqual([["create", rolloutResultType, "fleet-result"]]);
    const scriptsOf = (host: string): string[] => scriptsOn(scenario.sim, host, before);
    // The refresh's probe on every engine, then the runbook on the two below the requirement.
    expect(scriptsOf("MPS03")).toEqual(["probe"]);
    for (const name of ["MPS01", "MPS02"]) {
      expect(scriptsOf(name)).toEqual(["probe", ...kbRunbookScripts]);
      expect(scenario.sim.host(name)).toMatchObject({
        files: { [kbFile]: requiredVersion },
        engine: "active",
        complus: "running",
      });
    }
    expect(scenario.sim.host("MPS03").files).toEqual({ [kbFile]: versions.MPS03 });
  });

  it("keeps only EngineHotfixes resources of this release's schema, with each engine's recorded state", async () => {
    const stored = resourcesOf(await (await scenario.stack()).exportStack()).filter(hotfixResource);
    expect(stored.map((r) => [r.type, nameOf(r.urn)])).toEqual(
      engines.map((e) => [engineHotfixesType, `fleet-${e.toLowerCase()}-hotfixes`]),
    );
    // Inputs and state in this release's shape; the state is what each engine has (MPS03's later version kept).
    const recorded = Object.fromEntries(
      stored.map((r) => [
        String(r.outputs?.["engine"]),
        {
          inputs: r.inputs?.["schemaVersion"],
          state: r.outputs?.["schemaVersion"],
          files: r.outputs?.["files"],
          rotation: [r.outputs?.["engineState"], r.outputs?.["comPlusState"], r.outputs?.["restartPending"]],
        },
      ]),
    );
    const recordedAs = (version: string): object => ({
      inputs: stateSchemaVersion,
      state: stateSchemaVersion,
      files: { KB952089: { [kbFile]: version } },
      rotation: ["active", "running", false],
    });
    expect(recorded).toEqual({
      MPS01: recordedAs(requiredVersion),
      MPS02: recordedAs(requiredVersion),
      MPS03: recordedAs(versions.MPS03),
    });
    // The engines the up patched were held to this release's requirement.
    for (const r of stored.filter((r) => r.outputs?.["engine"] !== "MPS03")) {
      expect(r.outputs?.["required"]).toEqual({ KB952089: { [kbFile]: requiredVersion } });
    }
  });

  it("has nothing to change on the next preview", async () => {
    const preview = await previewFleet(await scenario.stack(), { expectNoChanges: true });
    // The stack, the Fleet, three EngineServers and their EngineHotfixes, the RolloutResult.
    expect(preview.changeSummary).toEqual({ same: 9 });
  });
});
