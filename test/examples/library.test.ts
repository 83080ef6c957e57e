import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { engineHotfixesType } from "../../components/engineHotfixes";
import { rolloutResultType } from "../../components/rolloutResult";
import { simulatedKb952089 } from "../../simulator/simulatedPackage";

const root = join(__dirname, "..", "..");
const examplePath = join(root, "examples", "library", "index.ts");

interface Registered {
  readonly type: string;
  readonly name: string;
}

const registered: Registered[] = [];
/** Every resource's inputs, as the engine would receive them. */
const inputs: unknown[] = [];
const passwords = { MPS01: "example-password-MPS01", MPS02: "example-password-MPS02" };

void pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name });
      inputs.push(args.inputs);
      return { id: `${args.name}-id`, state: args.inputs as Record<string, unknown> };
    },
    call: (args) => args.inputs as Record<string, unknown>,
  },
  "mps-hotfix",
  "example",
  false,
);

describe("the operator's guide's library example", () => {
  it("is the code of docs/operator-guide.md, verbatim", () => {
    const example = readFileSync(examplePath, "utf8").trimEnd();
    expect(readFileSync(join(root, "docs", "operator-guide.md"), "utf8")).toContain(example);
  });

  it("declares a fleet with one resource per engine and a rollout result, and puts no credential in any resource", async () => {
    const { sha256 } = simulatedKb952089;
    pulumi.runtime.setAllConfig(
      {
        "mps-hotfix:fleet": JSON.stringify({
          packages: { KB952089: { path: join(root, simulatedKb952089.path), sha256 } },
          engines: [
            { name: "MPS01", host: "mps01.example", user: "svc", trustUnknownHostKey: true },
            { name: "MPS02", host: "mps02.example", user: "svc", trustUnknownHostKey: true },
          ],
        }),
        "mps-hotfix:credentials": JSON.stringify({
          MPS01: { password: passwords.MPS01 },
          MPS02: { password: passwords.MPS02 },
        }),
      },
      ["mps-hotfix:credentials"],
    );
    const example = (await import("../../examples/library/index")) as { compliantEngines: pulumi.Output<string> };
    await new Promise<void>((resolve) => example.compliantEngines.apply(() => resolve()));
    expect(registered).toEqual([
      { type: "mpshotfix:index:Fleet", name: "patch-window" },
      { type: "mpshotfix:index:EngineServer", name: "patch-window-mps01" },
      { type: engineHotfixesType, name: "patch-window-mps01-hotfixes" },
      { type: "mpshotfix:index:EngineServer", name: "patch-window-mps02" },
      { type: engineHotfixesType, name: "patch-window-mps02-hotfixes" },
      { type: rolloutResultType, name: "patch-window-result" },
    ]);
    // The provider reads the credentials from the stack's config; no resource's inputs hold them.
    const declared = JSON.stringify(inputs);
    for (const password of Object.values(passwords)) expect(declared).not.toContain(password);
    expect(declared).not.toContain('"credentials"');
  });
});
