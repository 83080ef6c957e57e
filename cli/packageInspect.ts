import { draftPlaceholder, type HotfixEntry } from "../components/domain/catalog";
import type { MsiPackage } from "../components/package/msiPackage";

/** What `mps-hotfix package inspect` prints: the package's product and its File table. */
export function renderPackage(path: string, pkg: MsiPackage): string {
  const rows = pkg.files.map(
    (f) => `| ${f.fileName} | ${f.version ?? "(unversioned)"} | ${f.sizeBytes} | ${f.language ?? ""} |`,
  );
  return [
    path,
    `  ProductName    ${pkg.productName}`,
    `  ProductVersion ${pkg.productVersion}`,
    `  ProductCode    ${pkg.productCode}`,
    "",
    "| File | Version | Size (bytes) | Language |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/**
 * A draft catalog entry for a hotfix from its package: the files and versions from its File table,
 * the package's file name; the title, article, applicability, restart requirement and file dates
 * are the article's and are left for the operator, marked with the placeholders the catalog refuses
 * (draftPlaceholder), so a draft cannot be taken into a catalog as it is.
 */
export function draftCatalogEntry(id: string, packageFile: string, pkg: MsiPackage): HotfixEntry {
  return {
    id,
    title: `${draftPlaceholder.text}: ${pkg.productName}`,
    article: `https://support.microsoft.com/kb/${id.replace(/^KB/, "")}${draftPlaceholder.article}`,
    appliesTo: [draftPlaceholder.text],
    packageFile,
    restartRequired: false,
    replaces: [],
    prerequisites: [],
    files: pkg.files
      .filter((f) => f.version !== null)
      .map((f) => ({
        name: f.fileName,
        version: f.version!,
        sizeBytes: f.sizeBytes,
        dateUtc: draftPlaceholder.dateUtc,
        platform: "x86" as const,
      })),
  };
}

export const draftNotice = (id: string): string =>
  `The draft of ${id} takes its files and versions from the package. Fill in from the article before adding it ` +
  `to the catalog: title, appliesTo, restartRequired, replaces, prerequisites, each file's dateUtc and platform ` +
  `(the draft says 1970-01-01 and x86), and check the article's link (then drop its ${draftPlaceholder.article}). ` +
  `The catalog refuses an entry that still holds a placeholder.\n`;
