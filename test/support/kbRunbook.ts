/** Before the installs: the probe, each outdated hotfix's staging, deactivate once, COM+ shutdown once. */
export function takeDownScriptsFor(hotfixes: number): readonly string[] {
  return ["probe", ...Array<string>(hotfixes).fill("stage-package"), "deactivate-engine", "shutdown-complus"];
}

/** The scripts before the install: the probe, staging, deactivate, COM+ shutdown. */
export const takeDownScripts: readonly string[] = takeDownScriptsFor(1);

/** The scripts after a successful install: the verifying probe, COM+ start, activate, the check that COM+ answers. */
export const bringBackScripts: readonly string[] = ["probe", "start-complus", "activate-engine", "check-response"];

/** The scripts of one engine's maintenance that installs `hotfixes` hotfixes, in the article's order. */
export function maintenanceScripts(hotfixes: number): readonly string[] {
  return [...takeDownScriptsFor(hotfixes), ...Array<string>(hotfixes).fill("install-package"), ...bringBackScripts];
}

/** The scripts a host runs for one engine's KB952089 runbook, in the article's order. */
export const kbRunbookScripts: readonly string[] = maintenanceScripts(1);
