import { z } from "zod";
import { SafeFileName } from "./fields";
import { FileVersionText } from "./fileVersion";
import catalogData from "./hotfixes.json";

export { SafeFileName };

export const HotfixId = z.string().regex(/^KB[0-9]{6,7}$/, "must look like KB952089");

export const HotfixFile = z.strictObject({
  name: SafeFileName,
  version: FileVersionText,
  sizeBytes: z.number().int().positive(),
  dateUtc: z.iso.datetime(),
  platform: z.enum(["x86", "x64", "ia64"]),
  /** The file's row as the article prints it, cells run together, where it was read from one. */
  articleRow: z.string().min(1).optional(),
  /** How the row was read, where it can be read more than one way. */
  readingNote: z.string().min(1).optional(),
});
export type HotfixFile = z.infer<typeof HotfixFile>;

export const HotfixEntry = z.strictObject({
  id: HotfixId,
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

/**
 * What `package inspect --catalog-entry` writes where only the article can tell. A draft has the
 * shape of an entry (HotfixEntry) but is not one yet: the catalog refuses an entry that still holds
 * any of these, naming each.
 */
export const draftPlaceholder = {
  /** In the title and in appliesTo. */
  text: "FILL IN from the article",
  /** The end of the article link, which the draft guesses from the id. */
  article: "#FILL-IN-check-this-link",
  /** Each file's date: no file of a hotfix is dated 1970. */
  dateUtc: "1970-01-01T00:00:00Z",
} as const;

/** The fields of an entry that still hold a draft's placeholder, each with the path it is at. */
function placeholdersIn(entry: HotfixEntry): { path: (string | number)[]; field: string }[] {
  const found: { path: (string | number)[]; field: string }[] = [];
  if (entry.title.includes(draftPlaceholder.text)) found.push({ path: ["title"], field: "the title" });
  if (entry.article.endsWith(draftPlaceholder.article)) found.push({ path: ["article"], field: "the article's link" });
  entry.appliesTo.forEach((product, index) => {
    if (product.includes(draftPlaceholder.text))
      found.push({ path: ["appliesTo", index], field: "what it applies to" });
  });
  entry.files.forEach((file, index) => {
    if (Date.parse(file.dateUtc) === Date.parse(draftPlaceholder.dateUtc)) {
      found.push({ path: ["files", index, "dateUtc"], field: `the date of ${file.name}` });
    }
  });
  return found;
}

export const HotfixCatalog = z.array(HotfixEntry).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.id)) {
      ctx.addIssue({ code: "custom", message: `duplicate hotfix id ${entry.id}`, path: [index, "id"] });
    }
    seen.add(entry.id);
    for (const { path, field } of placeholdersIn(entry)) {
      ctx.addIssue({
        code: "custom",
        message: `${entry.id} is a draft: ${field} is still the placeholder of package inspect --catalog-entry; fill it in from the article`,
        path: [index, ...path],
      });
    }
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
