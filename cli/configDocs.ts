#!/usr/bin/env node
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stackFileJsonSchema } from "../components/config/fleetSchema";
import { configurationReference } from "./configReference";
import { findProjectRoot } from "./projectRoot";

/**
 * Writes the documents generated from the config's zod schemas (its own entry point, like the
 * demo): docs/fleet.schema.json and docs/configuration.md. Run it after changing a schema;
 * test/config/generatedDocs.test.ts fails until the committed files are what this writes.
 */
export function generatedDocs(): Readonly<Record<string, string>> {
  const schema = stackFileJsonSchema();
  return {
    "docs/fleet.schema.json": `${JSON.stringify(schema, null, 2)}\n`,
    "docs/configuration.md": configurationReference(schema),
  };
}

if (require.main === module) {
  const root = findProjectRoot();
  mkdirSync(join(root, "docs"), { recursive: true });
  for (const [path, text] of Object.entries(generatedDocs())) {
    writeFileSync(join(root, path), text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
