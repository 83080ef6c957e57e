/**
 * The scripts a host runs for one engine's KB952089 runbook, in the article's order: the probe,
 * staging, deactivate, COM+ shutdown, install, the verifying probe, COM+ start, activate.
 */
export const kbRunbookScripts: readonly string[] = [
  "probe",
  "stage-package",
  "deactivate-engine",
  "shutdown-complus",
  "install-package",
  "probe",
  "start-complus",
  "activate-engine",
];
