import type { Node } from "web-tree-sitter";
import { includeLine } from "../../components/host/scriptFiles";
import { namedChildrenOf as named, precedenceLayers, walk, where } from "./psAst";

/**
 * PowerShell writes the value of every statement that does not capture it to the output stream
 * (about_Return: "the results of each statement are returned as output"). A script's only output
 * must be its `key=value` lines, so this reads a script's syntax tree and names every statement
 * that would print anything else: a method call whose value is not discarded, a function called
 * for its value outside an assignment, a `return` outside a function, a `Write-Output` of
 * something that is not a `key=value` (or `log:`) line.
 */

/** Commands that print nothing (Start-Sleep), or discard their input (Out-Null). */
const silentCommands = new Set(["start-sleep", "out-null"]);

/** Statements whose output is, by design, another script's: the relay passing the engine's lines on, the bootstrap running the script. */
export const passThroughs = new Set(["Write-Output $line", "& ([ScriptBlock]::Create($mpsScript)) $mpsPayload"]);

type Context = "script" | "function";

function firstNamed(node: Node, type: string): Node | undefined {
  return named(node, type)[0];
}

const wrappers = new Set(precedenceLayers);

/** The meaningful node under a chain of one-operand wrappers (logical_expression, …, unary_expression). */
export function unwrap(node: Node): Node {
  let current = node;
  while (wrappers.has(current.type) && current.childCount === 1 && current.namedChild(0) !== null) {
    current = current.namedChild(0)!;
  }
  return current;
}

/**
 * The shape of a printed value: string literals as they are, anything else as `#`, joined. A line
 * is `key=value` when its shape starts with a key and `=`, or it is a log line (`log:`).
 */
function shapeOf(node: Node): string | undefined {
  const inner = unwrap(node);
  if (inner.type === "string_literal") {
    const verbatim = firstNamed(inner, "verbatim_string_characters");
    return verbatim === undefined ? "#" : verbatim.text.slice(1, -1).replace(/''/g, "'");
  }
  if (inner.type === "parenthesized_expression") {
    const pipeline = firstNamed(inner, "pipeline");
    return pipeline === undefined ? undefined : shapeOf(pipeline);
  }
  if (inner.type === "additive_expression") {
    const operands = named(inner);
    const parts = operands.map((operand) => shapeOf(operand) ?? "#");
    return parts.join("");
  }
  return "#";
}

/** A key (a computed part, `#`, only after its first letter) and `=`, or a log line. */
const keyValueShape = /^([A-Za-z][A-Za-z0-9.:_#-]*=|log:)/;

function writeOutputProblem(command: Node): string | undefined {
  const elements = firstNamed(command, "command_elements");
  const args = (elements?.namedChildren ?? []).filter(
    (child): child is Node => child !== null && child.type !== "command_argument_sep",
  );
  if (args.length !== 1) return "Write-Output must print exactly one value";
  const shape = shapeOf(args[0]!);
  if (shape === undefined || !keyValueShape.test(shape)) return `prints ${JSON.stringify(shape)}, not a key=value line`;
  return undefined;
}

/** The elements of a pipeline chain: commands and expressions between the `|`s. */
function chainElements(chain: Node): Node[] {
  return named(chain);
}

function isDiscarded(expression: Node): boolean {
  const inner = unwrap(expression);
  if (/^(post|pre)_(increment|decrement)_expression$/.test(inner.type)) return true;
  const type = inner.type === "cast_expression" ? firstNamed(inner, "type_literal") : undefined;
  return type?.text.toLowerCase() === "[void]";
}

/**
 * The statements of the step's script block in an assembled script (`& { <step> } @parameters`,
 * components/host/scriptAssembly.ts), or undefined for any other command.
 */
function stepBlockOf(command: Node): Node | undefined {
  if (command.type !== "command" || firstNamed(command, "command_invokation_operator") === undefined) return undefined;
  if (!command.text.startsWith("& {\n") || !command.text.endsWith("\n} @parameters")) return undefined;
  const body = command.descendantsOfType("script_block_body")[0];
  return body === null || body === undefined ? undefined : firstNamed(body, "statement_list");
}

export interface OutputProblem {
  readonly where: string;
  readonly statement: string;
  readonly problem: string;
}

/** Every statement of a script that would print something other than its key=value lines. */
export function outputProblems(root: Node): OutputProblem[] {
  const problems: OutputProblem[] = [];
  const functions = new Set(
    [...walk(root)]
      .filter((node) => node.type === "function_statement")
      .map((node) => firstNamed(node, "function_name")?.text.toLowerCase() ?? ""),
  );
  const report = (node: Node, problem: string): void =>
    void problems.push({ where: where(node), statement: node.text.split("\n")[0]!, problem });

  const checkList = (list: Node | undefined, context: Context): void => {
    for (const statement of list?.namedChildren ?? []) if (statement !== null) checkStatement(statement, context);
  };
  const checkBlock = (block: Node | undefined, context: Context): void =>
    checkList(block === undefined ? undefined : firstNamed(block, "statement_list"), context);

  const checkPipeline = (pipeline: Node, context: Context): void => {
    if (firstNamed(pipeline, "assignment_expression") !== undefined) return;
    if (passThroughs.has(pipeline.text)) return;
    const chain = firstNamed(pipeline, "pipeline_chain");
    if (chain === undefined) {
      report(pipeline, "a statement of an unknown form");
      return;
    }
    const elements = chainElements(chain);
    const last = elements[elements.length - 1]!;
    const step = elements.length === 1 ? stepBlockOf(last) : undefined;
    if (step !== undefined) {
      // The assembly's call of the step's script block: the step's output is the script's.
      checkList(step, context);
      return;
    }
    if (last.type === "command" && includeLine.test(last.text)) return;
    if (last.type === "command") {
      const name = firstNamed(last, "command_name")?.text.toLowerCase();
      if (name === undefined) {
        report(pipeline, "runs a command whose output is not discarded");
        return;
      }
      if (silentCommands.has(name)) return;
      if (name === "write-output") {
        if (context === "function") {
          report(pipeline, "prints from a function, whose output is its value");
          return;
        }
        const problem = writeOutputProblem(last);
        if (problem !== undefined) report(pipeline, problem);
        return;
      }
      if (name === "foreach-object") {
        // The block's output is the pipeline's: it is held to the same rule.
        const block = last.descendantsOfType("script_block")[0];
        if (block === undefined || block === null) {
          report(pipeline, "ForEach-Object without a script block");
          return;
        }
        checkList(block.descendantsOfType("statement_list")[0] ?? undefined, context);
        return;
      }
      if (functions.has(name)) {
        report(pipeline, `calls ${name} for its value without keeping it`);
        return;
      }
      report(pipeline, `runs ${name}, whose output is not discarded`);
      return;
    }
    if (elements.length === 1 && isDiscarded(last)) return;
    report(pipeline, "writes the value of an expression to the output");
  };

  const checkStatement = (statement: Node, context: Context): void => {
    switch (statement.type) {
      case "pipeline": {
        checkPipeline(statement, context);
        return;
      }
      case "empty_statement":
      case "comment":
        return;
      case "if_statement": {
        checkBlock(firstNamed(statement, "statement_block"), context);
        for (const clause of firstNamed(statement, "elseif_clauses")?.namedChildren ?? [])
          if (clause !== null) checkBlock(firstNamed(clause, "statement_block"), context);
        const otherwise = firstNamed(statement, "else_clause");
        if (otherwise !== undefined) checkBlock(firstNamed(otherwise, "statement_block"), context);
        return;
      }
      case "foreach_statement":
      case "do_statement":
      case "while_statement": {
        checkBlock(firstNamed(statement, "statement_block"), context);
        return;
      }
      case "try_statement": {
        checkBlock(firstNamed(statement, "statement_block"), context);
        for (const clause of firstNamed(statement, "catch_clauses")?.namedChildren ?? [])
          if (clause !== null) checkBlock(firstNamed(clause, "statement_block"), context);
        const final = firstNamed(statement, "finally_clause");
        if (final !== undefined) checkBlock(firstNamed(final, "statement_block"), context);
        return;
      }
      case "trap_statement": {
        checkBlock(firstNamed(statement, "statement_block"), context);
        return;
      }
      case "function_statement": {
        const body = firstNamed(firstNamed(statement, "script_block") ?? statement, "script_block_body");
        checkList(body === undefined ? undefined : firstNamed(body, "statement_list"), "function");
        return;
      }
      case "flow_control_statement": {
        const keyword = statement.child(0)?.type;
        if (keyword === "return" && context !== "function" && firstNamed(statement, "pipeline") !== undefined)
          report(statement, "returns a value from the script, which prints it");
        return;
      }
      default: {
        report(statement, `a ${statement.type} this check does not know`);
        return;
      }
    }
  };

  checkList(firstNamed(root, "statement_list"), "script");
  return problems;
}
