import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { bootstrapCommandLine } from "../../components/host/invocation";

/**
 * Every project path the README and the pages of docs/ name in code (`components/domain/hotfixes.json`)
 * exists, so a move or a rename that leaves them behind fails here. Placeholders (`<name>`), patterns
 * (`*.ts`) and what the build or a run writes (git-ignored folders) are left out. docs/configuration.md
 * is generated from the schemas and has a test of its own (test/config/generatedDocs.test.ts).
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

/** README.md and every page of docs/ but the generated reference, relative to the project root. */
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md") && name !== "configuration.md")
    .sort()
    .map((name) => `docs/${name}`),
];

const textOf = (page: string): string => readFileSync(join(root, page), "utf8");

it("reads the README and every page of docs/ but the generated reference", () => {
  expect(pages).toEqual(expect.arrayContaining(["README.md", "docs/operator-guide.md", "docs/architecture.md"]));
  expect(pages).not.toContain("docs/configuration.md");
});

it("links every page of docs/ from the README", () => {
  const readme = textOf("README.md");
  const docsPages = readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md"));
  expect(docsPages.filter((name) => !readme.includes(`](docs/${name})`))).toEqual([]);
});

it("names only project paths that exist", () => {
  const named = pages
    .flatMap((page) => [...textOf(page).matchAll(/`([^`\s]+)`/g)])
    .map((match) => match[1]!)
    .filter((path) => folders.some((folder) => path.startsWith(`${folder}/`)))
    .filter((path) => !/[*<]/.test(path) && !ignoredFolders.some((folder) => path.startsWith(folder)));
  expect(named.length).toBeGreaterThan(20);
  expect([...new Set(named)].filter((path) => !existsSync(join(root, path)))).toEqual([]);
});

it("gives the bootstrap's length as it is", () => {
  const stated = pages
    .flatMap((page) => [
      ...textOf(page).matchAll(/([0-9],[0-9]{3})[- ]character bootstrap|bootstrap \(([0-9],[0-9]{3}) characters/g),
    ])
    .map((match) => Number((match[1] ?? match[2]!).replace(",", "")));
  expect(stated.length).toBeGreaterThan(0);
  expect(new Set(stated)).toEqual(new Set([bootstrapCommandLine.length]));
});

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a markdown file's headings (fenced code left out). */
function anchorsIn(text: string): Set<string> {
  const outsideCode = text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
  return new Set([...outsideCode.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1]!)));
}

it("links only to files and headings that exist", () => {
  const links = pages.flatMap((page) =>
    [...textOf(page).matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1]!)
      .filter((target) => !/^[a-z]+:/.test(target))
      .map((target) => ({ page, target })),
  );
  expect(links.length).toBeGreaterThan(20);
  const broken = links.filter(({ page, target }) => {
    const [file = "", anchor] = target.split("#");
    const path = file === "" ? join(root, page) : resolve(root, dirname(page), file);
    if (!existsSync(path)) return true;
    return anchor !== undefined && !anchorsIn(readFileSync(path, "utf8")).has(anchor);
  });
  expect(broken).toEqual([]);
});
