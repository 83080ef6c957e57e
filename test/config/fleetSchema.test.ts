import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { fleetConfigKey, credentialsConfigKey, stackFileJsonSchema } from "../../components/config/fleetSchema";
import { injections, notFourNumbers, unknownHotfixId } from "../support/badConfig";
import type { RawCredential, RawFleet } from "../support/fleetFixture";

/**
 * The JSON Schema an editor checks a stack file with (docs/fleet.schema.json) accepts the example
 * stacks and rejects the bad-input examples of docs/failures-and-recovery.md that are config
 * mistakes it can see; the ones it cannot see are the ones the configuration reference lists under
 * "What an editor cannot check".
 */
const root = resolve(__dirname, "../..");
const exampleStacks = ["stacks/Pulumi.demo.yaml", "stacks/Pulumi.example-prod.yaml"];

interface StackFile {
  config: { [fleetConfigKey]: RawFleet; [credentialsConfigKey]?: Record<string, RawCredential> };
}

function readStack(path: string): StackFile {
  return parse(readFileSync(join(root, path), "utf8")) as StackFile;
}

const validate = new Ajv({ allErrors: true }).compile(stackFileJsonSchema());

/** Where the schema finds the document wrong, as ajv names the places (`.config['mps-hotfix:fleet'].engines`). */
function errorPaths(document: StackFile): string[] {
  if (validate(document) === true) return [];
  return [...new Set((validate.errors ?? []).map((error) => error.dataPath))];
}

const fleetPath = `.config['${fleetConfigKey}']`;

/** The demo stack with one mistake made in its fleet (and credentials). */
function demoWith(change: (fleet: RawFleet, credentials: Record<string, RawCredential>) => void): StackFile {
  const stack = readStack("stacks/Pulumi.demo.yaml");
  change(stack.config[fleetConfigKey], stack.config[credentialsConfigKey] ?? {});
  return stack;
}

function engine(fleet: RawFleet, index: number): NonNullable<RawFleet["engines"]>[number] {
  const found = fleet.engines?.[index];
  if (found === undefined) throw new Error(`test setup: the demo stack has no engines[${index}]`);
  return found;
}

/** The SHA-256 the example stack pins, which is not the demo package's. */
function examplePin(): string {
  const pin = readStack(exampleStacks[1]!).config[fleetConfigKey].packages?.["KB952089"]?.sha256;
  if (pin === undefined) throw new Error("test setup: the example stack pins no KB952089 package");
  return pin;
}

describe("the stack file's JSON Schema", () => {
  it.each(exampleStacks)("accepts %s", (path) => {
    expect(errorPaths(readStack(path))).toEqual([]);
  });

  it("is applied to the example stacks by their first line, for the YAML language server", () => {
    for (const path of exampleStacks) {
      const firstLine = readFileSync(join(root, path), "utf8").split("\n")[0];
      expect(firstLine).toBe("# yaml-language-server: $schema=../docs/fleet.schema.json");
      const schemaFile = resolve(join(root, path), "..", "../docs/fleet.schema.json");
      expect(JSON.parse(readFileSync(schemaFile, "utf8"))).toEqual(stackFileJsonSchema());
    }
  });

  it("is enabled in the README by the line the example stacks carry, once", () => {
    const shown = readFileSync(join(root, "README.md"), "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("# yaml-language-server:"));
    expect(shown).toEqual(["# yaml-language-server: $schema=../docs/fleet.schema.json"]);
  });

  it("rejects an empty engine list", () => {
    expect(errorPaths(demoWith((f) => void (f.engines = [])))).toEqual([`${fleetPath}.engines`]);
  });

  it.each(notFourNumbers)("rejects a minimumFileVersions version %j that is not four numbers", (bad) => {
    expect(errorPaths(demoWith((f) => void (f.minimumFileVersions = { "Mapsproccntl.dll": bad })))).toEqual([
      `${fleetPath}.minimumFileVersions['Mapsproccntl.dll']`,
    ]);
  });

  it("rejects an unknown hotfix id, in the fleet's list and in an engine's", () => {
    expect(errorPaths(demoWith((f) => void (f.hotfixes = ["KB952089", unknownHotfixId])))).toContain(
      `${fleetPath}.hotfixes[1]`,
    );
    expect(errorPaths(demoWith((f) => void (engine(f, 1).hotfixes = [unknownHotfixId])))).toContain(
      `${fleetPath}.engines[1].hotfixes[0]`,
    );
  });

  it("leaves the hotfix ids of a stack's own catalog to the program", () => {
    const stack = demoWith((f) => {
      f.catalog = "catalogs/own.json";
      f.hotfixes = [unknownHotfixId];
    });
    expect(errorPaths(stack)).toEqual([]);
  });

  describe("rejects values that could change a host command", () => {
    it.each(injections)("in an engine name, host and user: %j", (value) => {
      const stack = demoWith((f) => {
        engine(f, 0).name = value;
        engine(f, 1).host = value;
        engine(f, 2).user = value;
      });
      expect(errorPaths(stack)).toEqual(
        expect.arrayContaining([
          `${fleetPath}.engines[0].name`,
          `${fleetPath}.engines[1].host`,
          `${fleetPath}.engines[2].user`,
        ]),
      );
    });

    it.each(injections.map((v) => `C:\\MPS\\${v}`))("in an engine's and the fleet's binDir: %j", (value) => {
      const stack = demoWith((f) => {
        engine(f, 2).binDir = value;
        f.host = { binDir: value, stagingDir: value };
      });
      expect(errorPaths(stack)).toEqual([
        `${fleetPath}.engines[2].binDir`,
        `${fleetPath}.host.binDir`,
        `${fleetPath}.host.stagingDir`,
      ]);
    });

    it.each(injections.map((v) => `Provisioning Engine ${v}`))("in the comPlusApplication: %j", (value) => {
      expect(errorPaths(demoWith((f) => void (f.host = { comPlusApplication: value })))).toEqual([
        `${fleetPath}.host.comPlusApplication`,
      ]);
    });
  });

  it("rejects credentials stored in plaintext", () => {
    const stack = demoWith((_f, credentials) => {
      const stored = credentials["MPS01"]?.password as { secure: string };
      credentials["MPS01"] = { password: stored.secure };
    });
    expect(errorPaths(stack)).toContain(`.config['${credentialsConfigKey}']['MPS01'].password`);
  });

  it("rejects the route and host key mistakes the program refuses: a relayed engine with SSH settings, no key policy", () => {
    expect(errorPaths(demoWith((f) => void (engine(f, 0).relay = "MGMT01")))).toContain(`${fleetPath}.engines[0]`);
    expect(
      errorPaths(
        demoWith((f) => {
          delete engine(f, 0).trustUnknownHostKey;
        }),
      ),
    ).toContain(`${fleetPath}.engines[0]`);
    expect(
      errorPaths(
        demoWith((f) => {
          delete engine(f, 0).user;
        }),
      ),
    ).toContain(`${fleetPath}.engines[0]`);
  });

  // The config mistakes of docs/failures-and-recovery.md that the schema cannot see
  // (docs/configuration.md, "What an editor cannot check"): the program refuses them; an editor
  // passes them.
  it.each<[string, (fleet: RawFleet, credentials: Record<string, RawCredential>) => void]>([
    ["duplicate engine names", (f) => void (engine(f, 1).name = engine(f, 0).name!)],
    [
      "a package path that does not exist",
      (f) => void (f.packages!["KB952089"]!.path = "packages/KB952089-missing.msi"),
    ],
    [
      "a SHA-256 other than the package's (the example stack's)",
      (f) => void (f.packages!["KB952089"]!.sha256 = examplePin()),
    ],
    [
      "a missing secret",
      (_f, c) => {
        delete c["MPS03"];
      },
    ],
  ])("passes %s, which only the program can refuse", (_name, change) => {
    expect(errorPaths(demoWith(change))).toEqual([]);
  });
});
