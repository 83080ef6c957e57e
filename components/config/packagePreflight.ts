import { satisfies } from "../domain/fileVersion";
import type { RequiredFiles } from "../domain/requirement";
import { MsiPackageError, readMsiPackageFile } from "../package/msiPackage";

/**
 * Why a hotfix's package cannot bring an engine to the requirement, read from the package's own
 * File table on the operator's machine; empty when it can. A package that cannot is never
 * installed: the stack is refused before any host is contacted.
 */
export function packageProblems(hotfix: string, path: string, required: RequiredFiles): string[] {
  let files: ReadonlyMap<string, string | null>;
  try {
    const pkg = readMsiPackageFile(path);
    files = new Map(pkg.files.map((f) => [f.fileName.toLowerCase(), f.version]));
  } catch (error) {
    if (error instanceof MsiPackageError) return [`the ${hotfix} package ${path} ${error.message}`];
    throw error;
  }
  return Object.entries(required).flatMap(([name, version]) => {
    const carried = files.get(name.toLowerCase());
    if (carried === undefined) return [`the ${hotfix} package ${path} does not carry ${name} (required ${version})`];
    if (carried === null || !satisfies(carried, version)) {
      return [
        `the ${hotfix} package ${path} carries ${name} ${carried ?? "without a version"}; ${hotfix} requires ${version} or later, so it cannot bring an engine to the requirement`,
      ];
    }
    return [];
  });
}
