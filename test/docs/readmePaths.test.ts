import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bootstrapCommandLine } from "../../components/host/invocation";

/**
 * Every project path the README names in code (`components/domain/hotfixes.json`) exists, so a
 * move or a rename that leaves the README behind fails here. Placeholders (`<name>`), patterns
 * (`*.ts`) and what the build or a run writes (git-ignored folders) are left out.
 */
const root = resolve(__dirname, "../..");
const folders = [
  "components",
  "cli",
  "simulator",
  "test",
  "stacks",
  "scripts",
  "docs",
  "examples",
  "toolchain",
  "bench",
];

const ignoredFolders = readFileSync(join(root, ".gitignore"), "utf8")
  .split("\n")
  .filter((line) => line.endsWith("/") && !line.startsWith("#"));

it("names only project paths that exist", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const named = [...readme.matchAll(/`([^`\s]+)`/g)]
    .map((match) => match[1]!)
    .filter((path) => folders.some((folder) => path.startsWith(`${folder}/`)))
    .filter((path) => !/[*<]/.test(path) && !ignoredFolders.some((folder) => path.startsWith(folder)));
  expect(named.length).toBeGreaterThan(20);
  expect([...new Set(named)].filter((path) => !existsSync(join(root, path)))).toEqual([]);
});

it("gives the bootstrap's length as it is", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const stated = [
    ...readme.matchAll(/([0-9],[0-9]{3})[- ]character bootstrap|bootstrap \(([0-9],[0-9]{3}) characters/g),
  ].map((match) => Number((match[1] ?? match[2]!).replace(",", "")));
  expect(stated.length).toBeGreaterThan(0);
  expect(new Set(stated)).toEqual(new Set([bootstrapCommandLine.length]));
});
