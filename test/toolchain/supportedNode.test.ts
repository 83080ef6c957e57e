import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(__dirname, "..", "..");
const nodeScript = join(root, "scripts", "node.sh");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { engines: { node: string } };
const supported = Number(/>=(\d+)/.exec(manifest.engines.node)![1]);

function majorOf(version: string): number {
  return Number(/^v(\d+)\./.exec(version.trim())![1]);
}

describe("a supported Node under everything the product starts", () => {
  it("runs this suite on the Node package.json's engines field asks for", () => {
    expect(majorOf(process.version)).toBeGreaterThanOrEqual(supported);
  });

  it("gives a command and the processes it starts a supported node where the machine's is older", () => {
    // The machine kind this project runs on ships Node 20: stand one in front of everything else.
    const oldNode = mkdtempSync(join(tmpdir(), "old-node-"));
    // It says it is 20 and otherwise runs as node does (npm, which unpacks the pinned build, runs on it).
    writeFileSync(
      join(oldNode, "node"),
      `#!/bin/sh\nif [ "$1" = --version ]; then echo v20.20.2; else exec '${process.execPath}' "$@"; fi\n`,
    );
    chmodSync(join(oldNode, "node"), 0o755);
    const env = { ...process.env, PATH: `${oldNode}:${process.env["PATH"] ?? ""}` };
    Reflect.deleteProperty(env, "MPS_HOTFIX_NODE");
    const run = spawnSync("bash", [nodeScript, "bash", "-c", "node --version"], { encoding: "utf8", env });
    expect(run.status).toBe(0);
    expect(majorOf(run.stdout)).toBeGreaterThanOrEqual(supported);
    expect(run.stderr).toContain(`the machine's node is v20, older than ${supported}: using the pinned v`);
  });

  it("runs the major MPS_HOTFIX_NODE names, when the pinned build is there or can be unpacked", () => {
    const wanted = majorOf(process.version);
    const version = execFileSync("bash", [nodeScript, "node", "--version"], {
      encoding: "utf8",
      env: { ...process.env, MPS_HOTFIX_NODE: String(wanted) },
    });
    expect(majorOf(version)).toBe(wanted);
  });

  it("refuses a major it has no pinned build of, naming the choices", () => {
    const run = spawnSync("bash", [nodeScript, "node", "--version"], {
      encoding: "utf8",
      env: { ...process.env, MPS_HOTFIX_NODE: "19" },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^node: MPS_HOTFIX_NODE=19: choose one of (22 24|24 22)\n$/);
  });
});
