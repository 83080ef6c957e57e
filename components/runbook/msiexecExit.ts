/** What an msiexec exit code means for an engine here (Windows Installer error codes). */
export type MsiexecOutcome =
  | { readonly kind: "installed" }
  | { readonly kind: "restart-pending"; readonly meaning: string }
  | { readonly kind: "busy"; readonly meaning: string }
  | { readonly kind: "failed"; readonly meaning: string };

const meanings: Readonly<Record<number, string>> = {
  1602: "the installation was cancelled",
  1603: "fatal error during installation",
  1618: "another installation is already in progress",
  1619: "the package could not be opened",
  1620: "the package could not be opened (not a valid package)",
  1625: "the installation is forbidden by system policy",
  1633: "the package is not supported on this processor type",
  1638: "another version of this product is already installed",
  1641: "installed; the installer started a restart",
  3010: "installed; a restart is required to complete it",
};

export function classifyMsiexecExit(code: number): MsiexecOutcome {
  if (code === 0) return { kind: "installed" };
  const meaning = meanings[code] ?? "installation failed";
  if (code === 3010 || code === 1641) return { kind: "restart-pending", meaning };
  if (code === 1618) return { kind: "busy", meaning };
  return { kind: "failed", meaning };
}
