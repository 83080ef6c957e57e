import { z } from "zod";
import { SafeFileName } from "../components/domain/catalog";
import { FileVersionText } from "../components/domain/fileVersion";

/**
 * What a simulated host accepts as an .msi: a JSON manifest naming the files it installs. The
 * simulated msiexec installs exactly what the manifest declares and fails (1603) on anything else.
 */
export const SimulatedPackage = z.strictObject({
  simulatedPackage: z.string().min(1),
  installs: z
    .record(SafeFileName, FileVersionText)
    .refine((installs) => Object.keys(installs).length > 0, "must install at least one file"),
});
export type SimulatedPackage = z.infer<typeof SimulatedPackage>;

/** The bytes of a simulated package, e.g. `simulatedPackageBytes("KB952089", { "Mapsproccntl.dll": "13.3.609.1" })`. */
export function simulatedPackageBytes(id: string, installs: Readonly<Record<string, string>>): Buffer {
  const manifest = SimulatedPackage.parse({ simulatedPackage: id, installs: { ...installs } });
  return Buffer.from(JSON.stringify(manifest), "utf8");
}

/** The manifest inside package bytes, or undefined when they are not a simulated package. */
export function readSimulatedPackage(bytes: Buffer): SimulatedPackage | undefined {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  const result = SimulatedPackage.safeParse(data);
  return result.success ? result.data : undefined;
}

/** The project's simulated KB952089 package: the demo stack's, staged by the tests and the bench. */
export const simulatedKb952089 = {
  /** Relative to the project directory. */
  path: "stacks/demo-packages/KB952089.simulated.json",
  sha256: "5a35eee2a34983c1178928ecb56a47293d052631e8f2d7e082ca63f4d87a4a1d",
} as const;
