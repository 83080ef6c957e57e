/** The scripts before the install: the probe, staging, deactivate, COM+ shutdown. */
export const takeDownScripts: readonly string[] = ["probe", "stage-package", "deactivate-engine", "shutdown-complus"];

/** The scripts after a successful install: the verifying probe, COM+ start, activate. */
export const bringBackScripts: readonly string[] = ["probe", "start-complus", "activate-engine"];

/** The scripts a host runs for one engine's KB952089 runbook, in the article's order. */
export const kbRunbookScripts: readonly string[] = [...takeDownScripts, "install-package", ...bringBackScripts];
