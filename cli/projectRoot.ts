import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The directory holding Pulumi.yaml, found upwards from this file (source or dist). */
export function findProjectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml")) && existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${from}`);
  }
}

/** This project's directory. */
export const projectRoot = findProjectRoot();
