import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Language, Parser, type Node } from "web-tree-sitter";
import { renderRelayScript, renderScript, type HostScript } from "../../components/host/scriptAssembly";
import { bootstrapScript } from "../../components/host/invocation";
import { powershellDir } from "../../components/host/scriptFiles";
import { scriptNames, type ScriptName } from "../../components/host/scriptNames";
import { hostScripts, installLogPath } from "../../components/runbook/hostScripts";
import { engineTarget, inventedHotfix, kb952089 } from "../support/targets";
import { leaseAt } from "../support/lease";

/**
 * Every script the product sends, parsed with a real PowerShell grammar (tree-sitter-powershell,
 * run through web-tree-sitter's WASM runtime), for the tests that read the scripts' syntax trees.
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

/** Loads the grammar; call from beforeAll. */
export async function loadPowerShellGrammar(): Promise<void> {
  await Parser.init();
  // Bytes rather than a path: loading by path makes web-tree-sitter use a dynamic import(), which
  // jest's CommonJS sandbox does not allow.
  const language = await Language.load(new Uint8Array(readFileSync(grammarPath)));
  parser = new Parser();
  parser.setLanguage(language);
}

/** Frees the parser; call from afterAll. */
export function unloadPowerShellGrammar(): void {
  parser?.delete();
  parser = undefined;
}

export function parse(text: string): Node {
  if (parser === undefined) throw new Error("the PowerShell grammar did not load");
  const tree = parser.parse(text);
  if (tree === null) throw new Error("the parser returned no tree");
  return tree.rootNode;
}

/** Every named node of a tree, depth first. */
export function* walk(node: Node): Generator<Node> {
  yield node;
  for (const child of node.namedChildren) if (child !== null) yield* walk(child);
}

/** The grammar's layers of precedence, outermost first: each wraps the next when it has one operand. */
export const precedenceLayers: readonly string[] = [
  "pipeline",
  "pipeline_chain",
  "logical_expression",
  "bitwise_expression",
  "comparison_expression",
  "additive_expression",
  "multiplicative_expression",
  "format_expression",
  "range_expression",
  "array_literal_expression",
  "unary_expression",
  "expression_with_unary_operator",
];

/** A node's named children, of one type when `type` is given. */
export function namedChildrenOf(node: Node, type?: string): Node[] {
  return node.namedChildren.filter(
    (child): child is Node => child !== null && (type === undefined || child.type === type),
  );
}

/** "line 3, column 5" of a node, for failure messages. */
export function where(node: Node): string {
  return `line ${node.startPosition.row + 1}, column ${node.startPosition.column + 1}`;
}

const target = engineTarget();
const kbPackage = target.packages[0]!;
const logPath = installLogPath(target, kbPackage, new Date("2024-03-01T10:20:30.456Z"), 1);

/** One realistic script per script name, built the way the runbook builds it. */
export const scriptsByName: Readonly<Record<ScriptName, HostScript>> = {
  // An engine with two hotfixes, so the probe asks for a list of two files.
  // Every script that carries the maintenance lease is checked carrying one.
  probe: hostScripts.probe(engineTarget({ hotfixes: [kb952089, inventedHotfix] })),
  "stage-package": hostScripts.stagePackage(target, kbPackage, Buffer.from("MSI package bytes").toString("base64")),
  "deactivate-engine": hostScripts.deactivateEngine(target, leaseAt("deactivate-engine")),
  "shutdown-complus": hostScripts.shutdownComPlus(target, 120, leaseAt("shutdown-complus")),
  "install-package": hostScripts.installPackage(
    target,
    kbPackage,
    logPath,
    leaseAt("install-package", { Log: logPath }),
  ),
  "start-complus": hostScripts.startComPlus(target, leaseAt("start-complus")),
  "activate-engine": hostScripts.activateEngine(target, leaseAt("activate-engine")),
  "check-response": hostScripts.checkResponse(target),
  "read-install-log": hostScripts.readInstallLog(logPath, 25),
  "installer-status": hostScripts.installerStatus(logPath),
};

export const installLogOfScripts = logPath;

/**
 * Every text the product can make a host run: each file of components/host/powershell alone, each
 * engine script as sent, each inside the relay script, and the bootstrap.
 */
export const everyScriptText: readonly { readonly label: string; readonly text: string }[] = [
  ...readdirSync(powershellDir).map((file) => ({ label: file, text: readFileSync(join(powershellDir, file), "utf8") })),
  ...scriptNames.map((name) => ({ label: name, text: renderScript(scriptsByName[name]) })),
  ...scriptNames.map((name) => ({
    label: `${name} behind a relay`,
    text: renderRelayScript("mps02.corp.example", renderScript(scriptsByName[name])),
  })),
  { label: "bootstrap", text: bootstrapScript },
];
