import { z } from "zod";
import { catalog } from "../domain/catalog";
import { Credential, SshEndpoint } from "../domain/endpoint";
import { EngineConfig, FleetConfig } from "./fleetConfig";

/**
 * JSON Schemas generated from the zod schemas of the stack's config, for editors (the YAML
 * language server) and for readers: a stack file can be checked before it goes to review, and the
 * configuration reference is rendered from the same schema. zod writes what its schemas say
 * (types, patterns, bounds, defaults, descriptions); what the schemas check in code is added here
 * where JSON Schema can say it, and the rest is left to the program (see fleetSchemaLimits).
 */
export type JsonSchema = z.core.JSONSchema.BaseSchema;

/** The stack config keys the program reads (its namespace is the project's name, mps-hotfix). */
export const fleetConfigKey = "mps-hotfix:fleet";
export const credentialsConfigKey = "mps-hotfix:credentials";

/** Draft-07: what the YAML language server and most editors' validators read fully. */
const draft = "http://json-schema.org/draft-07/schema#";

/** requireOneHostKeyPolicy (domain/endpoint.ts) as JSON Schema: exactly one of the two. */
const oneHostKeyPolicy: JsonSchema = {
  oneOf: [
    { description: "hostKey, the pinned fingerprint", required: ["hostKey"] },
    { description: "trustUnknownHostKey: true", required: ["trustUnknownHostKey"] },
  ],
};

/** The fields EngineConfig's refinement forbids for a relayed engine, as JSON Schema does not see them. */
const sshOnlyEngineFields = ["port", "user", "hostKey", "trustUnknownHostKey"] as const;

/** The rules the zod schemas check in code (refinements), where JSON Schema can say them. */
function addRefinements(ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void {
  if (ctx.zodSchema === SshEndpoint) {
    Object.assign(ctx.jsonSchema, oneHostKeyPolicy);
  } else if (ctx.zodSchema === EngineConfig) {
    ctx.jsonSchema.anyOf = [
      {
        description: "An engine reached through a relay: the relay's SSH settings apply.",
        required: ["relay"],
        not: { anyOf: sshOnlyEngineFields.map((field) => ({ required: [field] })) },
      },
      {
        description: "An engine reached over SSH: a user, and a pinned host key or trustUnknownHostKey.",
        not: { required: ["relay"] },
        required: ["user"],
        ...oneHostKeyPolicy,
      },
    ];
  } else if (ctx.zodSchema === FleetConfig) {
    // A stack that names its own catalog may name any hotfix in it; without one, the built-in
    // catalog's ids are the only ones the program accepts.
    const knownIds: JsonSchema = { enum: catalog.map((entry) => entry.id) };
    ctx.jsonSchema.if = { not: { required: ["catalog"] } };
    ctx.jsonSchema.then = {
      description: `Without catalog, every hotfix id (in hotfixes and engines[].hotfixes) is one of the built-in catalog's: ${knownIds.enum?.join(", ") ?? ""}.`,
      properties: {
        hotfixes: { items: knownIds },
        engines: { items: { properties: { hotfixes: { items: knownIds } } } },
      },
    };
  }
}

/**
 * What the program refuses and the JSON Schema cannot say (it sees one stack file, not the
 * packages, the catalog a stack names, or the relations between entries): an editor passes these.
 */
export const checkedOnlyByTheProgram: readonly string[] = [
  "duplicate engine names, engine hosts or relay names (compared case-insensitively)",
  "an engine's relay that names no relay in relays",
  "a package path that does not exist, a SHA-256 other than the file's, and the package's File table",
  "a hotfix without a package source, and a minimumFileVersions entry for a file no hotfix installs",
  "the hotfix ids and the contents of a catalog the stack names (catalog)",
  "an engine or relay without credentials, and a relay whose credential is a privateKey",
];

/** `mps-hotfix:fleet` as the stack file holds it (defaults may be left out). */
export function fleetJsonSchema(): JsonSchema {
  return z.toJSONSchema(FleetConfig, { target: "draft-07", io: "input", override: addRefinements });
}

/** A value the stack file holds encrypted, as `pulumi config set --secret` writes it. */
const secureValue: JsonSchema = {
  type: "object",
  properties: { secure: { type: "string" } },
  required: ["secure"],
  additionalProperties: false,
};

/**
 * `mps-hotfix:credentials`: every credential a secret, whether the whole value was set as one
 * secret or each hop's fields with `--path`.
 */
function credentialsJsonSchema(): JsonSchema {
  const fields = Object.keys(Credential.shape);
  return {
    description:
      "Credentials by engine or relay name, each field a Pulumi secret: pulumi config set --secret --path 'credentials.<name>.password'.",
    anyOf: [
      secureValue,
      {
        type: "object",
        additionalProperties: {
          type: "object",
          properties: Object.fromEntries(fields.map((field) => [field, secureValue])),
          minProperties: 1,
          additionalProperties: false,
        },
      },
    ],
  };
}

/**
 * A stack file, `stacks/Pulumi.<stack>.yaml`: `mps-hotfix:fleet` sits under `config`, so the schema
 * an editor applies to the file describes the file and holds the fleet's schema under definitions.
 */
export function stackFileJsonSchema(): JsonSchema {
  const { $schema: _draft, definitions, ...fleet } = fleetJsonSchema();
  // zod inlines a schema used more than once (its default) and writes definitions only for schemas
  // registered with an id: the fleet's refs would then point at the fleet's own root.
  if (definitions !== undefined) throw new Error("the fleet's JSON Schema has definitions of its own: hoist them");
  return {
    $schema: draft,
    title: "mps-hotfix stack file",
    description: `A Pulumi stack file of mps-hotfix (stacks/Pulumi.<stack>.yaml): ${fleetConfigKey} and ${credentialsConfigKey} under config. Generated from the zod schemas; see docs/configuration.md.`,
    type: "object",
    properties: {
      config: {
        type: "object",
        properties: {
          [fleetConfigKey]: { $ref: "#/definitions/fleet" },
          [credentialsConfigKey]: credentialsJsonSchema(),
        },
        required: [fleetConfigKey],
      },
    },
    required: ["config"],
    definitions: { fleet },
  };
}
