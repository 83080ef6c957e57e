import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Node } from "web-tree-sitter";
import { decodeCommand, powershellPrefix, quotePowerShell } from "../../components/host/powershell";
import {
  endOfParameters,
  filledParameters,
  parametersEnd,
  parametersStart,
  payloadEntry,
  payloadParam,
  relayFailedExitCode,
  relayHeader,
  relayUnreachableExitCode,
  renderRelayScript,
  renderScript,
  scriptBlockEnd,
  scriptBlockStart,
  scriptHeaderPrefix,
  type HostScript,
  type ScriptParams,
} from "../../components/host/scriptAssembly";
import {
  bootstrapFile,
  paramBlockOf,
  powershellDir,
  relayFile,
  commonFileName,
  sharedFileNames,
  stepFiles,
} from "../../components/host/scriptFiles";
import { bootstrapCommandLine, bootstrapScript, invocationFor } from "../../components/host/invocation";
import { scriptNames } from "../../components/host/scriptNames";
import { stepNames } from "../../components/runbook/steps";
import { leaseKeyPath } from "../../components/domain/lease";
import { leaseHeldError } from "../../components/host/answers";
import { inventedHotfix, kbFile } from "../support/targets";
import { loadPowerShellGrammar, parse, scriptsByName, unloadPowerShellGrammar, where } from "./psAst";
import { testRunId } from "../support/lease";

/**
 * Every script the product sends is parsed with a real PowerShell grammar (tree-sitter-powershell,
 * run through web-tree-sitter's WASM runtime), so a quoting slip or a broken body fails here and
 * not on an engine server.
 */

beforeAll(loadPowerShellGrammar);
afterAll(unloadPowerShellGrammar);

const sharedText = (file: string): string => readFileSync(join(powershellDir, file), "utf8");

/** Every ERROR or MISSING node, with its position and text, for the failure message. */
function syntaxProblems(root: Node): string[] {
  const problems: string[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      problems.push(
        `${node.isMissing ? `MISSING ${node.type}` : "ERROR"} at ${where(node)}: ${JSON.stringify(node.text)}`,
      );
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

/** The single-quoted literals of the parameters' hashtable entry `name`. */
function literalsOfEntry(root: Node, name: string): string[] {
  const entry = root.descendantsOfType("hash_entry").find((e) => e!.text.startsWith(`${name} = `));
  if (!entry) throw new Error(`no parameter entry ${name}`);
  return entry.descendantsOfType("verbatim_string_characters").map((n) => n!.text);
}

function commandNames(root: Node): string[] {
  return root.descendantsOfType("command_name").map((n) => n!.text);
}

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

  const files = [
    ...scriptNames.map((name) => [`${name}.ps1`, stepFiles[name].text] as const),
    ...[commonFileName, ...sharedFileNames].map((file) => [file, sharedText(file)] as const),
    ["relay.ps1", relayFile.text] as const,
    ["bootstrap.ps1", bootstrapFile.text] as const,
  ];

  it.each(files)("the file %s, alone", (_file, text) => {
    expectParses(text);
  });

  it.each(scriptNames)("%s, as sent", (name) => {
    const text = renderScript(scriptsByName[name]);
    const root = expectParses(text);
    expect(text.startsWith(`${scriptHeaderPrefix}${name}\n`)).toBe(true);
    // The step runs as a script block called with the parameters: the last statement of the text.
    const statements = topLevelStatements(root);
    expect(statements[statements.length - 1]!.text).toBe(
      `${scriptBlockStart}\n${stepFiles[name].sent}${scriptBlockEnd}`,
    );
  });

  it.each(scriptNames)("%s, behind a relay", (name) => {
    const inner = renderScript(scriptsByName[name]);
    const root = expectParses(renderRelayScript("mps02.corp.example", inner));
    // The engine's script travels as base64 of its UTF-8 text.
    const [encoded] = literalsOfEntry(root, "InnerScript");
    expect(Buffer.from(encoded!.slice(1, -1), "base64").toString("utf8")).toBe(inner);
  });

  it.each(scriptNames)("%s.ps1 ends with an explicit exit", (name) => {
    const statements = topLevelStatements(parse(stepFiles[name].text));
    expect(statements[statements.length - 1]!.text).toMatch(/^exit (0|\$code)$/);
  });

  it("the bootstrap parses, and runs the script it reads as its last statement", () => {
    const statements = topLevelStatements(expectParses(bootstrapScript));
    expect(statements[statements.length - 1]!.text).toBe("& ([ScriptBlock]::Create($mpsScript)) $mpsPayload");
  });

  it("the relay script ends with an explicit exit; a WinRM failure and any other error exit with the codes the product reads", () => {
    const relay = relayFile.text.trimEnd().split("\n");
    expect(relay[relay.length - 1]).toBe("exit $code");
    expect(relay).toContain("    exit $UnreachableExitCode");
    expect(relay).toContain("  exit $FailedExitCode");
    const root = parse(renderRelayScript("mps02", "exit 0\n"));
    expect(literalsOfEntry(root, "UnreachableExitCode")).toEqual([`'${relayUnreachableExitCode}'`]);
    expect(literalsOfEntry(root, "FailedExitCode")).toEqual([`'${relayFailedExitCode}'`]);
    expect(renderRelayScript("mps02", "exit 0\n").split("\n").slice(0, 2)).toEqual([relayHeader, payloadParam]);
  });

  it("common.ps1's trap reports an error and exits 1, and every step is sent with it right after its param() line", () => {
    const trap =
      "trap {\n  Write-Output ('error=' + ($_.Exception.Message -replace '[\\r\\n]+', ' '))\n  Write-Output 'exit=1'\n  exit 1\n}";
    expect(sharedText("common.ps1")).toContain(trap);
    for (const name of scriptNames) {
      const paramLine = stepFiles[name].text.split("\n").find((line) => line.startsWith("param("));
      expect(stepFiles[name].sent.startsWith(`${paramLine}\n$ErrorActionPreference = 'Stop'\n${trap}\n`)).toBe(true);
      expect(stepFiles[name].text).not.toContain(". .\\common.ps1");
      expect(renderScript(scriptsByName[name])).toContain(
        `${endOfParameters}\n${scriptBlockStart}\n${filledParameters(stepFiles[name]).length > 0 ? "param(" : ""}`,
      );
      expect(stepFiles[name].sent).toContain(`)\n$ErrorActionPreference = 'Stop'\n${trap}\n`);
    }
  });

  it("lease.ps1 refuses a held engine with the error the product reads the holder from", () => {
    expect(sharedText("lease.ps1")).toContain(`{ throw ('${leaseHeldError}' + $holder) }`);
  });

  it("lease-key.ps1 keeps the lease where the product says it is", () => {
    expect(sharedText("lease-key.ps1")).toContain(`function Get-MaintenanceLeasePath { return '${leaseKeyPath}' }\n`);
  });

  it("sends a file without its comment and blank lines, common.ps1 after its param() line, each include replaced by the shared file", () => {
    const sentLines = (text: string): string[] =>
      text.split("\n").filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
    for (const name of scriptNames) {
      const expanded = (text: string): string[] =>
        sentLines(text).flatMap((line) => {
          const include = /^\. \.\\(.+)$/.exec(line);
          return include === null ? [line] : expanded(sharedText(include[1]!));
        });
      const [paramLine, ...body] = expanded(stepFiles[name].text);
      const expected = [paramLine, ...sentLines(sharedText(commonFileName)), ...body];
      expect(stepFiles[name].sent).toBe(`${expected.join("\n")}\n`);
    }
  });
});

describe("parameters are single-quoted literals", () => {
  it("renders parameters in the param() block's order, right after the header, then the end marker", () => {
    const text = renderScript(scriptsByName["install-package"]);
    const log = "C:\\Windows\\Temp\\mps-hotfix\\KB952089-20240301-102030-attempt1.log";
    expect(text.split("\n").slice(0, 9)).toEqual([
      `${scriptHeaderPrefix}install-package`,
      parametersStart,
      "  PackagePath = 'C:\\Windows\\Temp\\mps-hotfix\\KB952089.msi'",
      `  LogPath = '${log}'`,
      `  LeaseRun = '${testRunId}'`,
      "  LeaseTakeover = ''",
      `  Lease = @('Stack=demo', 'Machine=ops-laptop', 'User=operator', 'Run=${testRunId}', 'Step=install-package', 'Started=2024-03-01T10:20:30.000Z', 'Expires=2024-03-01T10:55:30.000Z', 'Log=${log}')`,
      parametersEnd,
      endOfParameters,
    ]);
  });

  it("renders a list as @() of literals", () => {
    const text = renderScript(scriptsByName.probe);
    expect(text.split("\n")[2]).toBe(
      `  FilePaths = @('C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin\\${kbFile.name}', 'C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin\\${inventedHotfix.files[0]!.name}')`,
    );
  });

  it("takes the payload as param($Payload), the same direct or relayed; scripts without one take none", () => {
    const stage = renderScript(scriptsByName["stage-package"]);
    expect(stage.split("\n").slice(1, 3)).toEqual([payloadParam, parametersStart]);
    expect(stage).toContain(`\n${payloadEntry}\n${parametersEnd}\n`);
    expect(stage).not.toContain("[Console]::In");
    for (const name of scriptNames.filter((n) => n !== "stage-package")) {
      expect(renderScript(scriptsByName[name])).not.toMatch(/Payload/);
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
    const text = renderScript(script);
    const root = expectParses(text);
    expect(literalsOfEntry(root, "EngineName")).toEqual([quotePowerShell(value)]);
    expect(text).toContain(`\n  EngineName = '${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'\n`);
    // Whatever the value, the script runs the same commands as with a plain one.
    expect(commandNames(root)).toEqual(commandNames(parse(renderScript(scriptsByName["deactivate-engine"]))));
  });

  it("renders quotes in list items doubled too", () => {
    const script: HostScript = {
      name: "probe",
      params: {
        FilePaths: ["C:\\a'b\\x.dll", "C:\\c\u2019d\\y.dll"],
        EngineName: "MPS01",
        EngineControlProgId: "Provisioning.EngineControl",
        ComPlusApplication: "Provisioning Engine",
        ResponseTimeoutSeconds: "30",
      },
    };
    const root = expectParses(renderScript(script));
    expect(literalsOfEntry(root, "FilePaths")).toEqual(["'C:\\a''b\\x.dll'", "'C:\\c\u2019\u2019d\\y.dll'"]);
  });

  it("renders the relay's engine host as a literal too", () => {
    const root = expectParses(renderRelayScript("mps'02", "exit 0\n"));
    expect(literalsOfEntry(root, "Engine")).toEqual(["'mps''02'"]);
  });

  it("refuses a value with a line break", () => {
    const script: HostScript = { name: "start-complus", params: { ComPlusApplication: "a\nRemove-Item C:\\" } };
    expect(() => renderScript(script)).toThrow("refusing to quote a value with a control character");
  });
});

describe("renderScript checks its parameters", () => {
  it.each(scriptNames)("%s.ps1 declares the parameters the runbook gives it", (name) => {
    const declared = filledParameters(stepFiles[name]).map((param) => param.name);
    expect(declared.sort()).toEqual(Object.keys(scriptsByName[name].params).sort());
  });

  it("refuses a whole-number parameter that is not one", () => {
    const check = scriptsByName["check-response"];
    expect(() => renderScript({ ...check, params: { ...check.params, ResponseTimeoutSeconds: "30; calc" } })).toThrow(
      new Error('script check-response: parameter ResponseTimeoutSeconds must be a whole number, given "30; calc"'),
    );
  });

  it.each([
    ["a parameter without a type", "# x\nparam($Name)\n", "line 2"],
    ["a type the product does not fill in", "param([switch]$Force)\n", "line 1"],
    ["a missing comma", "param([string]$A [string]$B)\n", "line 1"],
    ["a comma after the last", "param([string]$A, )\n", "line 1"],
    ["an empty block", "param()\n", "line 1"],
    ["a block over several lines", "param(\n  [string]$A\n)\n", "line 1"],
    ["a block that does not end", "param([string]$A,\n", "line 1"],
  ])("refuses a param() block with %s", (_what, text, line) => {
    expect(() => paramBlockOf("x.ps1", text)).toThrow(`x.ps1: ${line}:`);
  });

  it("refuses a missing parameter", () => {
    const params: ScriptParams = { EngineName: "MPS01" };
    expect(() => renderScript({ name: "activate-engine", params })).toThrow(
      new Error(
        "script activate-engine takes parameters EngineControlProgId,EngineName,Lease,LeaseRun,LeaseTakeover, given EngineName,Lease,LeaseRun,LeaseTakeover",
      ),
    );
  });

  it("refuses an extra parameter", () => {
    const params: ScriptParams = { ComPlusApplication: "Provisioning Engine", Extra: "x" };
    expect(() => renderScript({ name: "start-complus", params })).toThrow(
      new Error(
        "script start-complus takes parameters ComPlusApplication,Lease,LeaseRun,LeaseTakeover, given ComPlusApplication,Extra,Lease,LeaseRun,LeaseTakeover",
      ),
    );
  });

  it("refuses a string where a list is expected, and a list where a string is expected", () => {
    const probe = scriptsByName.probe;
    expect(() => renderScript({ ...probe, params: { ...probe.params, FilePaths: "C:\\x.dll" } })).toThrow(
      new Error("script probe: parameter FilePaths must be a list"),
    );
    expect(() => renderScript({ ...probe, params: { ...probe.params, EngineName: ["MPS01"] } })).toThrow(
      new Error("script probe: parameter EngineName must be a string"),
    );
  });
});

describe("what goes over SSH", () => {
  it("is the bootstrap's command line, far below cmd.exe's 8,191 characters, whatever the script", () => {
    expect(bootstrapCommandLine.startsWith(powershellPrefix)).toBe(true);
    expect(decodeCommand(bootstrapCommandLine.slice(powershellPrefix.length))).toBe(bootstrapScript);
    expect(bootstrapCommandLine.length).toBeLessThan(2000);
    // A relayed probe of 300 files: the command line does not grow, the input does.
    const many = {
      ...scriptsByName.probe,
      params: {
        ...scriptsByName.probe.params,
        FilePaths: Array.from(
          { length: 300 },
          (_, i) => `C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin\\File${i}.dll`,
        ),
      },
    };
    const relayed = invocationFor(many, { kind: "relay", engineHost: "mps02.corp.example" });
    expect(relayed.commandLine).toBe(bootstrapCommandLine);
    expect(relayed.stdin.length).toBeGreaterThan(20000);
  });

  it("sends a direct script as base64 of its UTF-8 text on the first line of the input, its payload after", () => {
    const script = scriptsByName["stage-package"];
    const { stdin } = invocationFor(script, { kind: "direct" });
    const [first, ...rest] = stdin.split("\n");
    expect(Buffer.from(first!, "base64").toString("utf8")).toBe(renderScript(script));
    expect(rest.join("\n")).toBe(script.stdin);
  });

  it("sends a relayed script inside the relay script, the payload after it for the relay to pass on", () => {
    for (const script of [scriptsByName["stage-package"], scriptsByName.probe]) {
      const { stdin } = invocationFor(script, { kind: "relay", engineHost: "mps02" });
      const [first, ...rest] = stdin.split("\n");
      expect(Buffer.from(first!, "base64").toString("utf8")).toBe(renderRelayScript("mps02", renderScript(script)));
      expect(rest.join("\n")).toBe(script.stdin ?? "");
    }
  });
});
