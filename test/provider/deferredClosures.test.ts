import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../cli/workspace";

/**
 * The stand-ins live in Node's require cache, which jest's module registry does not use: each
 * case runs in a node process of its own, on the built module, as the CLI and the provider host
 * load it.
 */
const deferral = join(projectRoot, "dist", "components", "provider", "deferredClosures.js");

function inNode(script: string): unknown {
  const wrapped = `require(${JSON.stringify(deferral)}); (async () => { ${script} })().then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
  return JSON.parse(execFileSync(process.execPath, ["-e", wrapped], { cwd: projectRoot, encoding: "utf8" })) as unknown;
}

const loaded = `Object.keys(require.cache).filter((f) => /node_modules\\/(typescript|@npmcli\\/arborist)\\//.test(f)).length > 0`;

describe("the closure serializer, deferred", () => {
  test("loading the SDK, its automation API and its dynamic-provider config loads neither TypeScript nor arborist", () => {
    const script = `require("@pulumi/pulumi"); require("@pulumi/pulumi/automation"); require("@pulumi/pulumi/cmd/dynamic-provider/config"); return ${loaded};`;
    expect(inNode(script)).toBe(false);
  });

  test("serializing a function still works: the real serializer loads on the first call", () => {
    const script = `const pulumi = require("@pulumi/pulumi"); const before = ${loaded}; const s = await pulumi.runtime.serializeFunction(() => 6 * 7); return [before, /6 \\* 7/.test(s.text), ${loaded}];`;
    expect(inNode(script)).toEqual([false, true, true]);
  });

  test("each stand-in offers every function its module exports", () => {
    const script = `const { deferredClosureModules } = require(${JSON.stringify(deferral)});
      return Object.entries(deferredClosureModules).map(([request, names]) => {
        const file = require.resolve(request);
        delete require.cache[file];
        const real = require(file);
        return [request, Object.keys(real).filter((k) => typeof real[k] === "function").sort(), [...names].sort()];
      });`;
    for (const [request, real, offered] of inNode(script) as [string, string[], string[]][]) {
      expect({ request, offered }).toEqual({ request, offered: real });
    }
  });
});
