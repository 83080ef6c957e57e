/**
 * The steps of the KB952089 runbook and of the probe, as the product names them in scripts,
 * errors, progress and the simulator's step log.
 */
export const stepNames = [
  "probe",
  "stage-package",
  "deactivate-engine",
  "shutdown-complus",
  "install-package",
  "verify-files",
  "start-complus",
  "activate-engine",
  "read-install-log",
] as const;
export type StepName = (typeof stepNames)[number];

/** The script that carries out each step on the host: verify-files runs the probe again. */
export const scriptOf: Readonly<Record<StepName, ScriptName>> = {
  probe: "probe",
  "stage-package": "stage-package",
  "deactivate-engine": "deactivate-engine",
  "shutdown-complus": "shutdown-complus",
  "install-package": "install-package",
  "verify-files": "probe",
  "start-complus": "start-complus",
  "activate-engine": "activate-engine",
  "read-install-log": "read-install-log",
};

export const scriptNames = [
  "probe",
  "stage-package",
  "deactivate-engine",
  "shutdown-complus",
  "install-package",
  "start-complus",
  "activate-engine",
  "read-install-log",
] as const;
export type ScriptName = (typeof scriptNames)[number];
