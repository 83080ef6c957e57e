import {
  checkedOnlyByTheProgram,
  credentialsConfigKey,
  fleetConfigKey,
  type JsonSchema,
} from "../components/config/fleetSchema";

/**
 * The configuration reference (docs/configuration.md), rendered from the stack file's JSON Schema,
 * which is generated from the zod schemas: every field with its type, default and description, so
 * the reference says what the program checks and cannot drift from it.
 */

/** The command that regenerates docs/fleet.schema.json and docs/configuration.md. */
export const regenerateCommand = "npm run build && node dist/cli/configDocs.js";

/** A schema node as an object; `true`, `false` and anything absent read as the empty schema. */
function schemaOf(node: unknown): JsonSchema {
  return typeof node === "object" && node !== null && !Array.isArray(node) ? (node as JsonSchema) : {};
}

/** A value in inline code; a `|` is escaped so that a table or a heading around it stays whole. */
function code(value: string): string {
  return `\`${value.replaceAll("|", "\\|")}\``;
}

function rangeText(node: JsonSchema): string[] {
  const parts: string[] = [];
  if (typeof node.exclusiveMinimum === "number") parts.push(`greater than ${node.exclusiveMinimum}`);
  if (node.minimum !== undefined) parts.push(`at least ${node.minimum}`);
  // zod bounds every integer by the largest safe one; that says nothing to a reader.
  if (node.maximum !== undefined && node.maximum !== Number.MAX_SAFE_INTEGER) parts.push(`at most ${node.maximum}`);
  return parts;
}

/** What a value must be, in words, from its schema. */
export function typeText(node: JsonSchema): string {
  if (node.const !== undefined) return code(JSON.stringify(node.const));
  if (node.enum !== undefined) return `one of ${node.enum.map((value) => code(String(value))).join(", ")}`;
  if (node.type === undefined && node.anyOf !== undefined) {
    return node.anyOf.map((branch) => typeText(branch)).join(", or ");
  }
  switch (node.type) {
    case "string": {
      const parts = [node.format === undefined ? "string" : `${node.format} string`];
      if (node.minLength !== undefined && node.minLength > 0)
        parts.push(`at least ${node.minLength} character${node.minLength === 1 ? "" : "s"}`);
      if (node.maxLength !== undefined) parts.push(`at most ${node.maxLength} characters`);
      // A format names the rule its (long) pattern checks.
      if (node.pattern !== undefined && node.format === undefined) parts.push(`matching ${code(node.pattern)}`);
      return parts.join(", ");
    }
    case "integer":
    case "number":
      return [node.type, ...rangeText(node)].join(", ");
    case "boolean":
      return "boolean";
    case "array": {
      const items = Array.isArray(node.items) ? {} : schemaOf(node.items);
      const least = node.minItems !== undefined && node.minItems > 0 ? ` (at least ${node.minItems})` : "";
      return `list${least} of: ${typeText(items)}`;
    }
    case "object":
      if (node.properties !== undefined) {
        return `object with ${Object.keys(node.properties)
          .map((key) => code(key))
          .join(", ")}`;
      }
      return `map from name to: ${typeText(schemaOf(node.additionalProperties))}`;
    default:
      return "any value";
  }
}

function defaultText(node: JsonSchema, required: boolean): string {
  if (required) return "required";
  // An object's default is its fields' defaults (zod writes some as one value, some not at all).
  if (node.properties !== undefined) return "optional; its fields' defaults apply";
  if (node.default === undefined) return "optional";
  return `optional; default ${code(JSON.stringify(node.default))}`;
}

/** Rules across fields: alternatives that carry a description of their own, and conditions. */
function ruleLines(node: JsonSchema): string[] {
  const alternatives = [...(node.anyOf ?? []), ...(node.oneOf ?? [])].filter((branch) => branch.type === undefined);
  const lines: string[] = [];
  if (alternatives.length > 0) {
    lines.push(
      node.oneOf !== undefined && node.anyOf === undefined ? "- Must give exactly one of:" : "- Must be one of:",
    );
    for (const branch of alternatives) lines.push(`  - ${branch.description ?? JSON.stringify(branch)}`);
  }
  const then = schemaOf(node.then);
  if (then.description !== undefined) lines.push(`- ${then.description}`);
  return lines;
}

export interface Field {
  readonly path: string;
  readonly node: JsonSchema;
  readonly required: boolean;
}

/** Every field under a schema, depth first, in the schema's order. */
function fieldsOf(node: JsonSchema, path: string): Field[] {
  const fields: Field[] = [];
  const required = new Set(node.required ?? []);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const childPath = path === "" ? key : `${path}.${key}`;
    const schema = schemaOf(child);
    fields.push({ path: childPath, node: schema, required: required.has(key) }, ...childrenOf(schema, childPath));
  }
  return fields;
}

function childrenOf(node: JsonSchema, path: string): Field[] {
  if (node.type === "array" && !Array.isArray(node.items)) return childrenOf(schemaOf(node.items), `${path}[]`);
  if (node.properties !== undefined) return fieldsOf(node, path);
  if (node.type === "object" && typeof node.additionalProperties === "object") {
    return childrenOf(node.additionalProperties, `${path}.<name>`);
  }
  // Alternatives that are objects (the change window): the fields of each.
  return (node.anyOf ?? []).filter((branch) => branch.type === "object").flatMap((branch) => fieldsOf(branch, path));
}

function section(field: Field): string {
  const lines = [`### ${code(field.path)}`, ""];
  if (field.node.description !== undefined) lines.push(field.node.description, "");
  // A list's items carry the rules across their fields (an engine's route and host key policy).
  const items = field.node.type === "array" ? ruleLines(schemaOf(field.node.items)) : [];
  lines.push(
    `- Type: ${typeText(field.node)}`,
    `- ${defaultText(field.node, field.required)}`,
    ...ruleLines(field.node),
    ...items.map((line) => line.replace("- Must", "- Each must")),
  );
  return lines.join("\n");
}

/** The fleet's schema in a stack file's: under definitions, where config refers to it. */
function fleetOf(stackFile: JsonSchema): JsonSchema {
  const config = schemaOf(schemaOf(stackFile.properties?.["config"]).properties?.[fleetConfigKey]);
  return config.$ref === "#/definitions/fleet" ? schemaOf(schemaOf(stackFile["definitions"])["fleet"]) : config;
}

/** Every field of the fleet the reference lists, by its path (`engines[].host`). */
export function referenceFields(stackFile: JsonSchema): readonly Field[] {
  return fieldsOf(fleetOf(stackFile), "");
}

/** docs/configuration.md, from the stack file's JSON Schema (stackFileJsonSchema). */
export function configurationReference(stackFile: JsonSchema): string {
  const fleet = fleetOf(stackFile);
  const credentials = schemaOf(schemaOf(stackFile.properties?.["config"]).properties?.[credentialsConfigKey]);
  const fleetRules = ruleLines(fleet);
  return [
    `# Configuration reference: ${code(fleetConfigKey)}`,
    "",
    "<!-- Generated from the zod schemas; do not edit. Regenerate with: " + regenerateCommand + " -->",
    "",
    `Every field of ${code(fleetConfigKey)}, the stack config that declares the fleet, as the zod schemas in`,
    "`components/config/fleetConfig.ts` and `components/domain/` check it when the program loads. The same",
    "schemas generate [`fleet.schema.json`](fleet.schema.json), the JSON Schema of a stack file that an editor",
    `checks a stack file with; both are regenerated with ${code(regenerateCommand)}, and a test fails`,
    "when either differs from what the schemas generate.",
    "",
    ...(fleetRules.length > 0 ? ["## Rules across fields", "", ...fleetRules, ""] : []),
    "## Fields",
    "",
    fieldsOf(fleet, "").map(section).join("\n\n"),
    "",
    `## ${code(credentialsConfigKey)}`,
    "",
    credentials.description ?? "",
    "",
    "## What an editor cannot check",
    "",
    "The program refuses these before any host is contacted; the JSON Schema, which sees one stack file, passes them:",
    "",
    ...checkedOnlyByTheProgram.map((limit) => `- ${limit}`),
    "",
  ].join("\n");
}
