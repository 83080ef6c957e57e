import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The layers point one way: each folder of components/ may import only the folders listed for it
 * (and itself), and the simulator, a test double, stays out of the shipped command's import graph.
 */
const root = resolve(__dirname, "../..");

const allowed: Readonly<Record<string, readonly string[]>> = {
  "components/domain": [],
  "components/package": [],
  "components/host": ["components/domain"],
  "components/runbook": ["components/domain", "components/host"],
  "components/provider": ["components/domain", "components/host", "components/runbook"],
  "components/config": ["components/domain", "components/package"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The project files a source file imports, relative to the project root, without extension. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const specifiers = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)";/gms)].map((m) => m[1]!);
  return specifiers
    .filter((s) => s.startsWith("."))
    .map((s) => relative(root, resolve(root, dirname(file), s)).replace(/\.(ts|json)$/, ""));
}

function layerOf(path: string): string | undefined {
  return Object.keys(allowed).find((layer) => path === layer || path.startsWith(`${layer}/`));
}

describe("layers", () => {
  for (const [layer, mayImport] of Object.entries(allowed)) {
    test(`${layer} imports only ${mayImport.join(", ") || "nothing of the product"}`, () => {
      const violations = sourceFiles(layer).flatMap((file) =>
        importsOf(file)
          .filter((target) => {
            const targetLayer = layerOf(target);
            return targetLayer !== layer && !mayImport.includes(targetLayer ?? target);
          })
          .map((target) => `${file} -> ${target}`),
      );
      expect(violations).toEqual([]);
    });
  }

  test("the shipped command and the components never load the simulator", () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const target of importsOf(`${file}.ts`)) {
        if (!target.endsWith("hotfixes")) visit(target);
      }
    };
    visit("cli/main");
    visit("components/index");
    visit("index");
    expect([...seen].filter((file) => file.startsWith("simulator/"))).toEqual([]);
    expect(seen.has("components/provider/hotfixProvider")).toBe(false);
    expect(seen.size).toBeGreaterThan(20);
  });
});
