import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { simulatedKb952089 } from "../../simulator/simulatedPackage";

const root = join(__dirname, "..", "..");
const examplePath = join(root, "examples", "library", "index.ts");

interface Registered {
  readonly type: string;
  readonly name: string;
}

const registered: Registered[] = [];

void pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name });
      return { id: `${args.name}-id`, state: args.inputs as Record<string, unknown> };
    },
    call: (args) => args.inputs as Record<string, unknown>,
  },
  "mps-hotfix",
  "example",
  false,
);

describe("the README's library example", () => {
  it("is the README's code, verbatim", () => {
    const example = readFileSync(examplePath, "utf8").trimEnd();
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain(example);
  });

  it("declares a fleet with its engines and their hotfixes", async () => {
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
        "mps-hotfix:credentials": JSON.stringify({ MPS01: { password: "p1" }, MPS02: { password: "p2" } }),
      },
      ["mps-hotfix:credentials"],
    );
    const example = (await import("../../examples/library/index")) as { compliantEngines: pulumi.Output<string> };
    await new Promise<void>((resolve) => example.compliantEngines.apply(() => resolve()));
    expect(registered).toEqual([
      { type: "mpshotfix:index:Fleet", name: "patch-window" },
      { type: "mpshotfix:index:EngineServer", name: "patch-window-mps01" },
      { type: "pulumi-nodejs:dynamic/mpshotfix:HotfixOnEngine", name: "patch-window-mps01-kb952089" },
      { type: "mpshotfix:index:EngineServer", name: "patch-window-mps02" },
      { type: "pulumi-nodejs:dynamic/mpshotfix:HotfixOnEngine", name: "patch-window-mps02-kb952089" },
    ]);
  });
});
