import { satisfies } from "./fileVersion";
import type { ObservedState } from "./observation";
import type { HotfixRequirements, RequiredFiles } from "./requirement";

/** Files of one hotfix whose deployed version is missing or older than required ("or later" satisfies). */
export function outdatedFiles(
  deployed: Readonly<Record<string, string>> | undefined,
  required: Readonly<RequiredFiles>,
): string[] {
  return Object.entries(required)
    .filter(([name, version]) => !satisfies(deployed?.[name] ?? "missing", version))
    .map(([name]) => name);
}

/** The hotfixes (ids, in the order given) that an engine lacks at least one file of. */
export function outdatedHotfixes(
  observed: Pick<ObservedState, "files">,
  required: Readonly<HotfixRequirements>,
  order: readonly string[] = Object.keys(required),
): string[] {
  return order.filter((id) => outdatedFiles(observed.files[id], required[id] ?? {}).length > 0);
}

/** Why one hotfix is not in place on an engine; empty when its files are. */
export function fileDrift(observed: Pick<ObservedState, "files">, hotfixId: string, required: RequiredFiles): string[] {
  const deployed = observed.files[hotfixId];
  return outdatedFiles(deployed, required).map(
    (name) => `${name}: ${deployed?.[name] ?? "missing"} is older than ${required[name]}`,
  );
}

/** Why the engine itself is not in rotation as required; empty when it is. */
export function rotationDrift(observed: Omit<ObservedState, "files">): string[] {
  const reasons: string[] = [];
  if (observed.restartPending) reasons.push("a restart is pending");
  if (observed.engineState === "unknown") reasons.push("the engine has never been read");
  else if (observed.engineState !== "active") reasons.push("the engine is deactivated (out of rotation)");
  if (observed.comPlusState === "stopped") reasons.push("the COM+ application is stopped");
  if (observed.maintenance !== undefined) reasons.push(observed.maintenance);
  return reasons;
}

/** Why an engine is not in its desired state; empty when it is compliant. */
export function driftReasons(observed: ObservedState, required: Readonly<HotfixRequirements>): string[] {
  return [
    ...Object.entries(required).flatMap(([id, files]) => fileDrift(observed, id, files)),
    ...rotationDrift(observed),
  ];
}
