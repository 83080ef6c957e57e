/** The scripts the product sends to a host, by the name each carries in its header. */
export const scriptNames = [
  "probe",
  "stage-package",
  "deactivate-engine",
  "shutdown-complus",
  "install-package",
  "start-complus",
  "activate-engine",
  "check-response",
  "read-install-log",
  "installer-status",
] as const;
export type ScriptName = (typeof scriptNames)[number];
