import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Language, Parser, type Node } from "web-tree-sitter";
import { quotePowerShell } from "../../components/host/powershell";
import {
  commandLineFor,
  endOfParameters,
  relayHeader,
  relayUnreachableExitCode,
  renderRelayScript,
  renderScript,
  scriptDefinition,
  scriptHeaderPrefix,
  type HostScript,
  type PayloadSource,
  type ScriptParams,
} from "../../components/host/scripts";
import { powershellPrefix, decodeCommand } from "../../components/host/powershell";
import { scriptNames, type ScriptName } from "../../components/host/scriptNames";
import { hostScripts, installLogPath } from "../../components/runbook/hostScripts";
import { stepNames } from "../../components/runbook/ports";
import { engineTarget, inventedHotfix, kb952089, kbFile } from "../support/targets";

/**
 * Every script the product sends is parsed with a real PowerShell grammar (tree-sitter-powershell,
 * run through web-tree-sitter's WASM runtime), so a quoting slip or a broken body fails here and
 * not on an engine server.
 */

const grammarPath = join(
  __dirname,
  "..",
  "..",
  "node_modules",
  "tree-sitter-powershell",
  "tree-sitter-powershell.wasm",
);

let parser: Parser | undefined;

beforeAll(async () => {
  await Parser.init();
  // Bytes rather than a path: loading by path makes web-tree-sitter use a dynamic import(), which
  // jest's CommonJS sandbox does not allow.
  const language = await Language.load(new Uint8Array(readFileSync(grammarPath)));
  parser = new Parser();
  parser.setLanguage(language);
});

afterAll(() => parser?.delete());

function parse(text: string): Node {
  if (parser === undefined) throw new Error("the PowerShell grammar did not load");
  const tree = parser.parse(text);
  if (tree === null) throw new Error("the parser returned no tree");
  return tree.rootNode;
}

/** Every ERROR or MISSING node, with its position and text, for the failure message. */
function syntaxProblems(root: Node): string[] {
  const problems: string[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      const where = `line ${node.startPosition.row + 1}, column ${node.startPosition.column + 1}`;
      problems.push(`${node.isMissing ? `MISSING ${node.type}` : "ERROR"} at ${where}: ${JSON.stringify(node.text)}`);
    }
    for (const child of node.children) if (child !== null) visit(child);
  };
  visit(root);
  if (root.hasError && problems.length === 0) problems.push("the tree has an error the walk did not find");
  return problems;
}

function expectParses(text: string): Node {
  const root = parse(text);
  // A failure prints each offending node and the script, numbered.
  const problems = syntaxProblems(root);
  if (problems.length > 0) {
    const numbered = text
      .split("\n")
      .map((line, i) => `${String(i + 1).padStart(3)}| ${line}`)
      .join("\n");
    throw new Error(`script does not parse:\n${problems.join("\n")}\n${numbered}`);
  }
  return root;
}

/** The statements at the top level of a script, in order. */
function topLevelStatements(root: Node): Node[] {
  const list = root.namedChildren.find((n) => n?.type === "statement_list");
  if (!list) throw new Error("the script has no statements");
  return list.namedChildren.filter((n): n is Node => n !== null);
}

/** The single-quoted literals on the right of `$name = ...` at the top level. */
function literalsAssignedTo(root: Node, name: string): string[] {
  const assignment = topLevelStatements(root).find((s) => s.text.startsWith(`$${name} = `));
  if (!assignment) throw new Error(`no top-level assignment to $${name}`);
  return assignment.descendantsOfType("verbatim_string_characters").map((n) => n!.text);
}

function commandNames(root: Node): string[] {
  return root.descendantsOfType("command_name").map((n) => n!.text);
}

const target = engineTarget();
const kbPackage = target.packages[0]!;

const logPath = installLogPath(target, kbPackage, new Date("2024-03-01T10:20:30.456Z"), 1);

/** One realistic script per script name, built the way the runbook builds it. */
const scriptsByName: Readonly<Record<ScriptName, HostScript>> = {
  // An engine with two hotfixes, so the probe asks for a list of two files.
  probe: hostScripts.probe(engineTarget({ hotfixes: [kb952089, inventedHotfix] })),
  "stage-package": hostScripts.stagePackage(target, kbPackage, Buffer.from("MSI package bytes").toString("base64")),
  "deactivate-engine": hostScripts.deactivateEngine(target),
  "shutdown-complus": hostScripts.shutdownComPlus(target, 120),
  "install-package": hostScripts.installPackage(target, kbPackage, logPath),
  "start-complus": hostScripts.startComPlus(target),
  "activate-engine": hostScripts.activateEngine(target),
  "read-install-log": hostScripts.readInstallLog(logPath, 25),
};

const payloadSources: readonly PayloadSource[] = ["stdin", "argument"];
const cases = scriptNames.flatMap((name) => payloadSources.map((source) => [name, source] as const));

describe("the script catalogue", () => {
  it("has a script for every step, and the test covers every script", () => {
    expect(Object.keys(scriptsByName).sort()).toEqual([...scriptNames].sort());
    // Every step runs the script of its name, except verify-files, which runs the probe again.
    const scriptOfStep = (step: (typeof stepNames)[number]): string => (step === "verify-files" ? "probe" : step);
    expect(new Set(stepNames.map(scriptOfStep))).toEqual(new Set(scriptNames));
    expect(stepNames.filter((step) => !(scriptNames as readonly string[]).includes(step))).toEqual(["verify-files"]);
  });
});

describe("every script parses as PowerShell", () => {
  it("a deliberately broken script is reported (the check can fail)", () => {
    const problems = syntaxProblems(parse("if ($x { }\nexit 0\n"));
    expect(problems.length).toBeGreaterThan(0);
    expect(() => expectParses("if ($x { }\nexit 0\n")).toThrow(/script does not parse:\n(ERROR|MISSING)/);
  });

  it("an unterminated literal (a quote that was not doubled) is reported", () => {
    expect(syntaxProblems(parse("$EngineName = 'O'Brien'\nexit 0\n")).length).toBeGreaterThan(0);
  });

  it.each(cases)("%s with its payload from %s", (name, source) => {
    const text = renderScript(scriptsByName[name], source);
    const root = expectParses(text);
    expect(text.startsWith(`${scriptHeaderPrefix}${name}\n`)).toBe(true);
    const statements = topLevelStatements(root);
    expect(statements[statements.length - 1]!.type).toBe("flow_control_statement");
    expect(statements[statements.length - 1]!.text).toMatch(/^exit (0|\$code)$/);
  });

  it.each(cases)("%s with its payload from %s, behind a relay", (name, source) => {
    const inner = renderScript(scriptsByName[name], source);
    const text = renderRelayScript("mps02.corp.example", inner, scriptsByName[name].stdin !== undefined);
    const root = expectParses(text);
    const statements = topLevelStatements(root);
    expect(statements[statements.length - 1]!.text).toBe("exit $code");
    // The engine's script travels as base64 of its UTF-8 text.
    const [encoded] = literalsAssignedTo(root, "InnerScript");
    expect(Buffer.from(encoded!.slice(1, -1), "base64").toString("utf8")).toBe(inner);
  });

  it.each(scriptNames)("%s ends with an explicit exit", (name) => {
    for (const source of payloadSources) {
      const lines = renderScript(scriptsByName[name], source).trimEnd().split("\n");
      expect(lines[lines.length - 1]).toMatch(/^exit (0|\$code)$/);
    }
  });

  it("the relay script ends with an explicit exit and its trap exits with the unreachable code", () => {
    const lines = renderRelayScript("mps02", "exit 0\n", false).trimEnd().split("\n");
    expect(lines[lines.length - 1]).toBe("exit $code");
    expect(lines).toContain(`  exit ${relayUnreachableExitCode}`);
    expect(lines[0]).toBe(relayHeader);
  });

  it.each(scriptNames)("%s: the trap reports an error and exits 1", (name) => {
    const text = renderScript(scriptsByName[name], "stdin");
    expect(text).toContain(
      "trap {\n  Write-Output ('error=' + ($_.Exception.Message -replace '[\\r\\n]+', ' '))\n  Write-Output 'exit=1'\n  exit 1\n}",
    );
  });
});

describe("parameters are single-quoted literals", () => {
  it("renders parameters in the definition's order, right after the header, then the end marker", () => {
    const text = renderScript(scriptsByName["install-package"], "stdin");
    expect(text.split("\n").slice(0, 4)).toEqual([
      `${scriptHeaderPrefix}install-package`,
      "$PackagePath = 'C:\\Windows\\Temp\\mps-hotfix\\KB952089.msi'",
      "$LogPath = 'C:\\Windows\\Temp\\mps-hotfix\\KB952089-20240301-102030-attempt1.log'",
      endOfParameters,
    ]);
  });

  it("renders a list as @() of literals", () => {
    const text = renderScript(scriptsByName.probe, "stdin");
    expect(text.split("\n")[1]).toBe(
      `$FilePaths = @('C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin\\${kbFile.name}', 'C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin\\${inventedHotfix.files[0]!.name}')`,
    );
  });

  it("reads the payload from stdin when direct, from param($Payload) when relayed", () => {
    const direct = renderScript(scriptsByName["stage-package"], "stdin");
    const relayed = renderScript(scriptsByName["stage-package"], "argument");
    expect(direct).toContain("\n$Payload = [Console]::In.ReadToEnd()\n");
    expect(direct).not.toContain("param($Payload)");
    expect(relayed.split("\n")[1]).toBe("param($Payload)");
    expect(relayed).not.toContain("[Console]::In.ReadToEnd()");
    // Scripts without a payload read nothing either way.
    for (const source of payloadSources) {
      expect(renderScript(scriptsByName.probe, source)).not.toMatch(/Payload/);
    }
  });

  const quoted = [
    "O'Brien",
    "it\u2019s",
    "\u2018left\u2019 and \u201Alow\u201B",
    "'",
    "''",
    "x'; Remove-Item C:\\ -Recurse #",
    "$(Remove-Item C:\\ -Recurse)",
    'C:\\x\\`"; calc',
    "a&b|c;d",
  ];

  it.each(quoted)("renders %j as one literal with its quotes doubled", (value) => {
    const script: HostScript = { name: "deactivate-engine", params: { EngineName: value, EngineControlProgId: value } };
    for (const source of payloadSources) {
      const text = renderScript(script, source);
      const root = expectParses(text);
      expect(literalsAssignedTo(root, "EngineName")).toEqual([quotePowerShell(value)]);
      expect(text).toContain(`\n$EngineName = '${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'\n`);
      // Whatever the value, the script runs the same commands as with a plain one.
      expect(commandNames(root)).toEqual(commandNames(parse(renderScript(scriptsByName["deactivate-engine"], source))));
    }
  });

  it("renders quotes in list items doubled too", () => {
    const script: HostScript = {
      name: "probe",
      params: {
        FilePaths: ["C:\\a'b\\x.dll", "C:\\c\u2019d\\y.dll"],
        EngineName: "MPS01",
        EngineControlProgId: "Provisioning.EngineControl",
        ComPlusApplication: "Provisioning Engine",
      },
    };
    const root = expectParses(renderScript(script, "stdin"));
    expect(literalsAssignedTo(root, "FilePaths")).toEqual(["'C:\\a''b\\x.dll'", "'C:\\c\u2019\u2019d\\y.dll'"]);
  });

  it("renders the relay's engine host as a literal too", () => {
    const root = expectParses(renderRelayScript("mps'02", "exit 0\n", true));
    expect(literalsAssignedTo(root, "Engine")).toEqual(["'mps''02'"]);
    expect(literalsAssignedTo(root, "ForwardInput")).toEqual(["'yes'"]);
  });

  it("refuses a value with a line break", () => {
    const script: HostScript = { name: "start-complus", params: { ComPlusApplication: "a\nRemove-Item C:\\" } };
    expect(() => renderScript(script, "stdin")).toThrow("refusing to quote a value with a control character");
  });
});

describe("renderScript checks its parameters", () => {
  it.each(scriptNames)("%s declares the parameters the runbook gives it", (name) => {
    expect([...scriptDefinition(name).params].sort()).toEqual(Object.keys(scriptsByName[name].params).sort());
  });

  it("refuses a missing parameter", () => {
    const params: ScriptParams = { EngineName: "MPS01" };
    expect(() => renderScript({ name: "activate-engine", params }, "stdin")).toThrow(
      new Error("script activate-engine takes parameters EngineControlProgId,EngineName, given EngineName"),
    );
  });

  it("refuses an extra parameter", () => {
    const params: ScriptParams = { ComPlusApplication: "Provisioning Engine", Extra: "x" };
    expect(() => renderScript({ name: "start-complus", params }, "stdin")).toThrow(
      new Error("script start-complus takes parameters ComPlusApplication, given ComPlusApplication,Extra"),
    );
  });

  it("refuses a string where a list is expected, and a list where a string is expected", () => {
    const probe = scriptsByName.probe;
    expect(() => renderScript({ ...probe, params: { ...probe.params, FilePaths: "C:\\x.dll" } }, "stdin")).toThrow(
      new Error("script probe: parameter FilePaths must be a list"),
    );
    expect(() => renderScript({ ...probe, params: { ...probe.params, EngineName: ["MPS01"] } }, "stdin")).toThrow(
      new Error("script probe: parameter EngineName must be a string"),
    );
  });
});

describe("commandLineFor", () => {
  it("sends a direct script as the encoded script reading stdin", () => {
    const script = scriptsByName["stage-package"];
    const line = commandLineFor(script, { kind: "direct" });
    expect(line.startsWith(powershellPrefix)).toBe(true);
    expect(decodeCommand(line.slice(powershellPrefix.length))).toBe(renderScript(script, "stdin"));
  });

  it("sends a relayed script inside the relay wrapper, forwarding stdin only when there is a payload", () => {
    const stage = scriptsByName["stage-package"];
    const stageLine = commandLineFor(stage, { kind: "relay", engineHost: "mps02" });
    expect(decodeCommand(stageLine.slice(powershellPrefix.length))).toBe(
      renderRelayScript("mps02", renderScript(stage, "argument"), true),
    );
    const probe = scriptsByName.probe;
    const probeLine = commandLineFor(probe, { kind: "relay", engineHost: "mps02" });
    const relay = decodeCommand(probeLine.slice(powershellPrefix.length));
    expect(relay).toBe(renderRelayScript("mps02", renderScript(probe, "argument"), false));
    expect(literalsAssignedTo(expectParses(relay), "ForwardInput")).toEqual(["'no'"]);
  });
});
