import { exec } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../cli/projectRoot";
import { loadFleetFile } from "../../simulator/fleetFile";
import { e2eEnv, scenarioFor } from "./scenario";

/**
 * Every `npm run mps-hotfix -- …` line that README.md and the pages of docs/ show in a code block
 * is run here, as the shell runs it, on the demo's fleet (simulator/fleets/demo.yaml): the stack
 * `demo` is this suite's stack, a package the page names by a placeholder file is a copy of the
 * demo's package under that name, and what a line redirects to a file is read from its output. The
 * outputs the pages show of that fleet (the README's preview, the operator guide's drift report and
 * progress lines) are compared with what the commands print. docs/plain-pulumi.md's `pulumi` lines
 * are run by plainPulumi.test.ts; `npm run demo` and the checks of "Developing" by `.ci/run`.
 */

const pages = [
  "README.md",
  ...readdirSync(join(projectRoot, "docs"))
    .filter((name) => name.endsWith(".md") && name !== "configuration.md")
    .map((name) => `docs/${name}`),
];

/** The lines of a page's fenced code blocks, with the block's language. */
function codeLines(page: string): { readonly language: string; readonly line: string }[] {
  const lines: { language: string; line: string }[] = [];
  let language: string | undefined;
  for (const line of readFileSync(join(projectRoot, page), "utf8").split("\n")) {
    const fence = /^```(\S*)$/.exec(line);
    if (fence !== null) language = language === undefined ? fence[1]! : undefined;
    else if (language !== undefined) lines.push({ language, line });
  }
  return lines;
}

/** A shown command: the line as the page has it, without its comment, and what it redirects to. */
interface ShownCommand {
  readonly page: string;
  readonly command: string;
  readonly redirectsTo?: string;
}

const shownCommands: readonly ShownCommand[] = pages.flatMap((page) =>
  codeLines(page)
    .filter(({ language }) => language === "sh")
    .map(({ line }) => /^(npm run (?:--silent )?mps-hotfix -- .+?)(?: > (\S+))?(?: +#.*)?$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ page, command: match[1]!, ...(match[2] === undefined ? {} : { redirectsTo: match[2] }) })),
);

/** The order an operator would run them in: adopt first, destroy last. */
const order = ["adopt", "preview", "report", "script", "package", "up", "refresh", "destroy"];
const rank = (command: string): number => {
  const subcommand = /mps-hotfix -- (\S+)/.exec(command)?.[1] ?? "";
  return order.indexOf(subcommand) * 10 + (command.includes("--recover-run") ? 1 : 0);
};

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function shell(command: string): Promise<Ran> {
  return new Promise((resolve) => {
    exec(
      command,
      { cwd: projectRoot, env: { ...process.env, ...e2eEnv }, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

describe("the commands the docs show, run on the demo's fleet", () => {
  const demoFleet = loadFleetFile(join(projectRoot, "simulator", "fleets", "demo.yaml"));
  const scenario = scenarioFor("docs", { engines: demoFleet.engines.map(({ name, files }) => ({ name, files })) });
  const packagesDir = mkdtempSync(join(tmpdir(), "mps-hotfix-docs-"));
  afterAll(() => rmSync(packagesDir, { recursive: true, force: true }));

  /** The command as this suite runs it: its stack, and a placeholder package made a real file. */
  const runnable = (command: string): string =>
    command
      .replace(/--stack demo\b/g, `--stack ${scenario().stackName}`)
      .replace(/ (KB[0-9]+\.msi)\b/g, (_all, file) => {
        const path = join(packagesDir, file as string);
        copyFileSync(join(projectRoot, "stacks", "demo-packages", "KB952089.msi"), path);
        return ` ${path}`;
      });

  it("finds the commands of the operator guide's reference, of its tour and of adding a hotfix", () => {
    const subcommands = new Set(shownCommands.map(({ command }) => /mps-hotfix -- (\S+)/.exec(command)?.[1]));
    expect(subcommands).toEqual(new Set(["preview", "up", "adopt", "refresh", "destroy", "package", "script"]));
    expect(shownCommands.filter(({ redirectsTo }) => redirectsTo !== undefined).length).toBeGreaterThanOrEqual(2);
    for (const { command } of shownCommands) expect(rank(command)).toBeGreaterThanOrEqual(0);
  });

  it("runs each, in an operator's order, and each ends with exit code 0", async () => {
    const outputs = new Map<string, Ran>();
    const sorted = [...new Set(shownCommands.map(({ command }) => command))].sort((a, b) => rank(a) - rank(b));
    for (const command of sorted) {
      const ran = await shell(runnable(command));
      expect({ command, code: ran.code, stderr: ran.code === 0 ? "" : ran.stderr }).toEqual({
        command,
        code: 0,
        stderr: "",
      });
      outputs.set(command, ran);
      // What the reference shows after an adopt and before the up: the README's preview, the guide's report.
      if (command.includes("-- preview")) expectReadmePreview(ran.stdout);
      if (command.includes("-- adopt"))
        expectGuideReport((await shell(runnable(`npm run --silent mps-hotfix -- report --stack demo`))).stdout);
      if (/-- up --stack demo$/.test(command)) expectReadmeProgress(ran.stdout + ran.stderr);
    }

    // A line redirected to a file gives what the page says the file is: with --silent, the output alone.
    for (const { command, redirectsTo } of shownCommands.filter((c) => c.redirectsTo !== undefined)) {
      const stdout = outputs.get(command)!.stdout;
      if (redirectsTo!.endsWith(".ps1")) expect(stdout.split("\n")[0]).toBe("# mps-hotfix script=probe");
      else if (redirectsTo!.endsWith(".json")) expect(() => JSON.parse(stdout) as unknown).not.toThrow();
      else throw new Error(`${command}: this suite does not know what ${redirectsTo!} should hold`);
    }
  });

  /** The README's preview lines, each shown once for an engine behind the KB. */
  function expectReadmePreview(output: string): void {
    const shown = codeLines("README.md")
      .map(({ line }) => line)
      .filter((line) => line.startsWith("~ Mapsproccntl.dll:"));
    expect(shown).toHaveLength(3);
    const printed = output.split("\n").map((line) => line.trim());
    for (const line of shown) expect(printed).toContain(line);
  }

  /** The operator guide's drift report, every line of it, for this stack. */
  function expectGuideReport(report: string): void {
    const guide = readFileSync(join(projectRoot, "docs", "operator-guide.md"), "utf8");
    const block = /\n```\n(### mps-hotfix drift report[^]*?)\n```\n/.exec(guide)?.[1];
    expect(block).toBeDefined();
    const printed = report.split("\n");
    for (const line of block!.replace("stack `demo`", `stack \`${scenario().stackName}\``).split("\n")) {
      expect(printed).toContain(line);
    }
  }

  /** The README's progress lines, their timings aside. */
  function expectReadmeProgress(output: string): void {
    const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
    const shown = [...readme.matchAll(/`(\[MPS01 1 of 5\] [^`]+)`/g)].map((match) => match[1]!);
    expect(shown).toHaveLength(2);
    for (const line of shown) {
      const pattern = line.replace(/[[\]().]/g, "\\$&").replace(/[0-9]+\\\.[0-9]+s/, "[0-9]+\\.[0-9]+s");
      expect(output).toMatch(new RegExp(pattern));
    }
  }
});
