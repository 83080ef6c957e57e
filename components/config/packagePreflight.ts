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
    // The reader refuses a bad package with an MsiPackageError. Should anything else escape it, the
    // package is still refused the same way (one message naming stack, hotfix and path, exit 2, no
    // host contacted) rather than ending preview or up with an error that names none of them.
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return [`the ${hotfix} package ${path} cannot be read: the package reader failed on it (${detail})`];
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
