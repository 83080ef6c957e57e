/**
 * Everything the runbook needs to know about one engine and one hotfix: plain data, as the
 * dynamic provider receives it in its inputs (connection secrets are kept apart).
 */
export interface HotfixTarget {
  readonly engineName: string;
  readonly hotfixId: string;
  readonly packageFile: string;
  /** The package's bytes are read from here on the operator's machine. */
  readonly packagePath: string;
  readonly packageSha256: string;
  /** File name => the version required at least. */
  readonly requiredVersions: Readonly<Record<string, string>>;
  readonly binDir: string;
  readonly stagingDir: string;
  readonly comPlusApplication: string;
  readonly engineControlProgId: string;
}

export interface RunbookSettings {
  readonly stepTimeoutMs: number;
  readonly complusShutdownTimeoutSeconds: number;
  readonly installAttempts: number;
  readonly installRetryDelayMs: number;
  readonly leaveFailedEngineOut: boolean;
}

export function hostPath(dir: string, file: string): string {
  return dir.endsWith("\\") ? `${dir}${file}` : `${dir}\\${file}`;
}
