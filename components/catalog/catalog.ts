import { z } from "zod";
import { FileVersionText } from "./fileVersion";
import catalogData from "./hotfixes.json";

/** A file name the product may put into a host command: no path separators, quotes or shell metacharacters. */
export const SafeFileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be a plain file name (letters, digits, '.', '_', '-')");

export const HotfixFile = z.strictObject({
  name: SafeFileName,
  version: FileVersionText,
  sizeBytes: z.number().int().positive(),
  dateUtc: z.iso.datetime(),
  platform: z.enum(["x86", "x64", "ia64"]),
});
export type HotfixFile = z.infer<typeof HotfixFile>;

export const HotfixEntry = z.strictObject({
  id: z.string().regex(/^KB[0-9]{6,7}$/, "must look like KB952089"),
  title: z.string().min(1),
  article: z.url(),
  appliesTo: z.array(z.string().min(1)).min(1),
  packageFile: SafeFileName.refine((n) => n.toLowerCase().endsWith(".msi"), "must name an .msi package"),
  restartRequired: z.boolean(),
  replaces: z.array(z.string()),
  prerequisites: z.array(z.string()),
  files: z.array(HotfixFile).min(1),
});
export type HotfixEntry = z.infer<typeof HotfixEntry>;

export const HotfixCatalog = z.array(HotfixEntry).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.id)) {
      ctx.addIssue({ code: "custom", message: `duplicate hotfix id ${entry.id}`, path: [index, "id"] });
    }
    seen.add(entry.id);
  });
});
export type HotfixCatalog = z.infer<typeof HotfixCatalog>;

/** Checks catalog data; throws with every problem and its path. */
export function parseCatalog(data: unknown): HotfixCatalog {
  const result = HotfixCatalog.safeParse(data);
  if (!result.success) throw new Error(`hotfix catalog is invalid:\n${z.prettifyError(result.error)}`);
  return result.data;
}

/** The hotfixes this product knows, in catalog order (the order an engine receives them). */
export const catalog: HotfixCatalog = parseCatalog(catalogData);

export function findHotfix(id: string, from: HotfixCatalog = catalog): HotfixEntry | undefined {
  return from.find((entry) => entry.id === id);
}
