import { z } from "zod";
import { HotfixId, SafeFileName } from "./catalog";
import { Sha256Hex } from "./fields";
import { FileVersionText } from "./fileVersion";

/** File name => the version an engine must have at least ("or later" satisfies). */
export const RequiredFiles = z.record(SafeFileName, FileVersionText);
export type RequiredFiles = z.infer<typeof RequiredFiles>;

/** Hotfix id => its required files: everything an engine must carry. */
export const HotfixRequirements = z.record(HotfixId, RequiredFiles);
export type HotfixRequirements = z.infer<typeof HotfixRequirements>;

/** The package that brings a hotfix's files, as the stack pins it. */
export const HotfixPackage = z.strictObject({
  hotfix: HotfixId,
  /** The package's file name on the host, such as KB952089.msi. */
  file: SafeFileName,
  /** Absolute path on the operator's machine; the bytes are read from here. */
  path: z.string().min(1),
  sha256: Sha256Hex,
});
export type HotfixPackage = z.infer<typeof HotfixPackage>;
