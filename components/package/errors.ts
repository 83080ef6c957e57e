/** What kind of problem a package has; the message says which and why. */
export type MsiPackageErrorKind =
  | "unreadable" // the file cannot be read at all
  | "not-a-package" // it is no installer database
  | "damaged" // it is one, but broken
  | "ambiguous" // it can be read more than one way, and Windows Installer may not read it the way this reader would
  | "incomplete" // it lacks a table or property a package needs
  | "unsupported"; // it uses a feature this reader does not decode

/**
 * A file that cannot be read as a Windows Installer package. The message names no path: it is
 * written to follow one, as in `packages.KB952089 (<path>): is damaged: ...`.
 */
export class MsiPackageError extends Error {
  constructor(
    readonly kind: MsiPackageErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "MsiPackageError";
  }
}

export function damaged(detail: string): MsiPackageError {
  return new MsiPackageError("damaged", `is damaged: ${detail}`);
}

export function ambiguous(detail: string): MsiPackageError {
  return new MsiPackageError("ambiguous", `is ambiguous: ${detail}`);
}
