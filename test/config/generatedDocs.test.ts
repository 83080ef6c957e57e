import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generatedDocs } from "../../cli/configDocs";
import { stackFileJsonSchema } from "../../components/config/fleetSchema";
import { referenceFields, regenerateCommand } from "../../cli/configReference";

/**
 * docs/fleet.schema.json and docs/configuration.md are generated from the zod schemas and
 * committed; a schema change that is not regenerated fails here, so neither can go stale.
 */
const root = resolve(__dirname, "../..");

describe("the documents generated from the config's schemas", () => {
  it.each(Object.entries(generatedDocs()))(
    "%s is what the schemas generate (else run the command docs/operator-guide.md names)",
    (path, generated) => {
      expect(readFileSync(join(root, path), "utf8")).toBe(generated);
    },
  );

  // A field added without .describe() would reach the reference as a type alone.
  it("describe every field of mps-hotfix:fleet", () => {
    const fields = referenceFields(stackFileJsonSchema());
    expect(fields.length).toBeGreaterThan(40);
    expect(fields.filter((field) => !field.node.description).map((field) => field.path)).toEqual([]);
  });

  it("the operator's guide names the command that regenerates them", () => {
    expect(readFileSync(join(root, "docs", "operator-guide.md"), "utf8")).toContain(regenerateCommand);
  });
});
