import type { Node } from "web-tree-sitter";
import { includeLine } from "../../components/host/scriptFiles";
import { namedChildrenOf as named, precedenceLayers, walk, where } from "./psAst";

/** Everything a script says, by kind, each with where it first says it. */
export interface Vocabulary {
  readonly cmdlets: Map<string, string>;
  /** `cmdlet -parameter`, lower case. */
  readonly parameters: Map<string, string>;
  readonly statements: Map<string, string>;
  readonly operators: Map<string, string>;
  readonly variables: Map<string, string>;
  readonly types: Map<string, string>;
  readonly staticMembers: Map<string, string>;
  readonly instanceMembers: Map<string, string>;
  readonly comClasses: Map<string, string>;
  /** Syntax the allow-list has no kind for (a switch, a class, a redirection…). */
  readonly unknown: Map<string, string>;
}

const statementKeywords: Readonly<Record<string, string>> = {
  if_statement: "if",
  elseif_clause: "elseif",
  else_clause: "else",
  foreach_statement: "foreach",
  do_statement: "do",
  while_condition: "while",
  while_statement: "while",
  try_statement: "try",
  catch_clause: "catch",
  finally_clause: "finally",
  trap_statement: "trap",
  function_statement: "function",
  param_block: "param",
};

/** Grammar nodes that say nothing of their own (literals, names, wrappers of one operand). */
const plain = new Set([
  "program",
  "statement_list",
  "statement_block",
  "script_block",
  "script_block_body",
  "script_block_expression",
  ...precedenceLayers,
  "assignment_expression",
  "left_assignment_expression",
  "parenthesized_expression",
  "argument_list",
  "argument_expression_list",
  "argument_expression",
  "logical_argument_expression",
  "bitwise_argument_expression",
  "comparison_argument_expression",
  "additive_argument_expression",
  "multiplicative_argument_expression",
  "format_argument_expression",
  "range_argument_expression",
  "string_literal",
  "verbatim_string_characters",
  "expandable_string_literal",
  "integer_literal",
  "decimal_integer_literal",
  "variable",
  "member_name",
  "simple_name",
  "type_literal",
  "type_spec",
  "type_name",
  "type_identifier",
  "command",
  "command_name",
  "command_name_expr",
  "command_elements",
  "command_argument_sep",
  "command_parameter",
  "command_invokation_operator",
  "generic_token",
  "comment",
  "empty_statement",
  "flow_control_statement",
  "parameter_list",
  "script_parameter",
  "function_name",
  "function_parameter_declaration",
  "elseif_clauses",
  "catch_clauses",
  "catch_type_list",
  "member_access",
  "invokation_expression",
  "element_access",
  "cast_expression",
  "array_expression",
  "post_increment_expression",
  "comparison_operator",
  "assignement_operator",
  "hash_literal_expression",
  "hash_literal_body",
  "hash_entry",
  "key_expression",
  "attribute_list",
  "attribute",
  "array_type_name",
  // A command named by a path: an include of a shared file, or else noted as the command it runs.
  "path_command_name",
  "path_command_name_token",
  ...Object.keys(statementKeywords),
]);

function note(map: Map<string, string>, key: string, node: Node): void {
  if (!map.has(key)) map.set(key, where(node));
}

/** The command's arguments in order: parameters and values (separators left out). */
function commandElements(command: Node): Node[] {
  const elements = named(command).find((child) => child.type === "command_elements");
  return elements === undefined ? [] : named(elements).filter((child) => child.type !== "command_argument_sep");
}

/** The single leaf under a value's wrappers (a generic token, a variable), or the value itself. */
function leafOf(node: Node): Node {
  let current = node;
  while (current.namedChildCount === 1 && current.namedChild(0) !== null) current = current.namedChild(0)!;
  return current;
}

/**
 * What a script says. `sharedFunctions` names the functions a script may call without defining
 * them: a step's file calls those of common.ps1, which the product sends before it.
 */
export function vocabularyOf(root: Node, sharedFunctions: ReadonlySet<string> = new Set()): Vocabulary {
  const vocabulary: Vocabulary = {
    cmdlets: new Map(),
    parameters: new Map(),
    statements: new Map(),
    operators: new Map(),
    variables: new Map(),
    types: new Map(),
    staticMembers: new Map(),
    instanceMembers: new Map(),
    comClasses: new Map(),
    unknown: new Map(),
  };
  const nodes = [...walk(root)];
  const functions = new Set([
    ...sharedFunctions,
    ...nodes
      .filter((n) => n.type === "function_statement")
      .map(
        (n) =>
          named(n)
            .find((c) => c.type === "function_name")
            ?.text.toLowerCase() ?? "",
      ),
  ]);
  const bound = new Set<string>();
  const used: { name: string; node: Node }[] = [];

  for (const node of nodes) {
    const keyword = statementKeywords[node.type];
    if (keyword !== undefined) note(vocabulary.statements, keyword, node);
    if (!plain.has(node.type)) note(vocabulary.unknown, node.type, node);
    switch (node.type) {
      case "do_statement":
        note(vocabulary.statements, "do", node);
        break;
      case "flow_control_statement":
        note(vocabulary.statements, node.child(0)?.type ?? "?", node);
        break;
      case "comparison_operator":
      case "assignement_operator":
        note(vocabulary.operators, node.text.toLowerCase(), node);
        break;
      case "post_increment_expression":
        note(vocabulary.operators, "++", node);
        break;
      case "element_access":
        note(vocabulary.operators, "[]", node);
        break;
      case "cast_expression":
        note(vocabulary.operators, "[cast]", node);
        break;
      case "array_expression":
        note(vocabulary.operators, "@()", node);
        break;
      case "hash_literal_expression":
        note(vocabulary.operators, "@{}", node);
        break;
      case "command_invokation_operator":
        note(vocabulary.operators, node.text, node);
        break;
      case "expression_with_unary_operator": {
        const operator = node.child(0);
        if (operator !== null && !operator.isNamed) note(vocabulary.operators, operator.text.toLowerCase(), node);
        break;
      }
      case "pipeline_chain":
      case "additive_expression":
      case "multiplicative_expression": {
        for (const child of node.children)
          if (child !== null && !child.isNamed) note(vocabulary.operators, child.text, node);
        break;
      }
      case "type_literal":
        note(vocabulary.types, (named(node)[0]?.text ?? "").toLowerCase(), node);
        break;
      case "member_access":
      case "invokation_expression": {
        const [object] = named(node);
        const operator = node.children.find(
          (child) => child !== null && !child.isNamed && (child.text === "." || child.text === "::"),
        );
        const name = named(node)
          .find((child) => child.type === "member_name")
          ?.text.toLowerCase();
        if (object === undefined || operator === undefined || operator === null || name === undefined) break;
        note(vocabulary.operators, operator.text, node);
        if (operator.text === "::" && object.type === "type_literal") {
          note(vocabulary.staticMembers, `${(named(object)[0]?.text ?? "").toLowerCase()}::${name}`, node);
        } else {
          note(vocabulary.instanceMembers, `.${name}`, node);
        }
        break;
      }
      case "variable":
        if (node.text.startsWith("@")) {
          // Splatting: @name passes the hashtable in $name as the command's parameters.
          note(vocabulary.operators, "@ (splatting)", node);
          used.push({ name: `$${node.text.slice(1).toLowerCase()}`, node });
          break;
        }
        used.push({ name: node.text.toLowerCase(), node });
        // A preference variable is PowerShell's, even where the script sets it.
        if (/preference$/i.test(node.text)) note(vocabulary.variables, node.text.toLowerCase(), node);
        if (node.parent?.type === "script_parameter") bound.add(node.text.toLowerCase());
        break;
      case "left_assignment_expression":
        bound.add(leafOf(node).text.toLowerCase());
        break;
      case "foreach_statement": {
        const variable = named(node).find((child) => child.type === "variable");
        if (variable !== undefined) bound.add(variable.text.toLowerCase());
        break;
      }
      case "command": {
        const name = named(node)
          .find((child) => child.type === "command_name")
          ?.text.toLowerCase();
        if (name === undefined || functions.has(name)) break;
        // A step's include of a shared file, which the product replaces with the file (scriptFiles.ts).
        if (includeLine.test(node.text)) break;
        note(vocabulary.cmdlets, name, node);
        const elements = commandElements(node);
        elements.forEach((element, index) => {
          if (element.type !== "command_parameter") return;
          const parameter = element.text.toLowerCase();
          note(vocabulary.parameters, `${name} ${parameter}`, element);
          const value = elements[index + 1] === undefined ? undefined : leafOf(elements[index + 1]!);
          if (value === undefined) return;
          if (parameter === "-errorvariable") bound.add(`$${value.text.toLowerCase()}`);
          if (name === "new-object" && parameter === "-comobject")
            note(vocabulary.comClasses, value.text.toLowerCase(), value);
          if (name === "new-object" && parameter === "-typename")
            note(vocabulary.types, value.text.toLowerCase(), value);
        });
        break;
      }
    }
  }
  for (const { name, node } of used) if (!bound.has(name)) note(vocabulary.variables, name, node);
  return vocabulary;
}
