import { satisfies } from "../catalog/fileVersion";
import type { ProbeAnswer } from "../host/answers";

/** What a probe found on an engine, in the shape the resource's state keeps. */
export interface ObservedState {
  /** File name => deployed version, or "missing". */
  readonly fileVersions: Readonly<Record<string, string>>;
  readonly engineState: "active" | "deactivated";
  readonly comPlusState: "running" | "stopped";
  readonly restartPending: boolean;
}

/** In rotation, COM+ running, no restart owed: what every engine is driven to besides its files. */
export const inRotation = { engineState: "active", comPlusState: "running", restartPending: false } as const;

/** The state every engine is driven to: required files, in rotation, COM+ running, no restart owed. */
export function desiredState(requiredVersions: Readonly<Record<string, string>>): ObservedState {
  return { fileVersions: requiredVersions, ...inRotation };
}

export function observedFrom(answer: ProbeAnswer, requiredVersions: Readonly<Record<string, string>>): ObservedState {
  const byLowerName = new Map(Object.entries(answer.files).map(([name, version]) => [name.toLowerCase(), version]));
  const fileVersions = Object.fromEntries(
    Object.keys(requiredVersions).map((name) => [name, byLowerName.get(name.toLowerCase()) ?? "missing"]),
  );
  return {
    fileVersions,
    engineState: answer.engine,
    comPlusState: answer.complus,
    restartPending: answer.restart === "pending",
  };
}

/** Files whose deployed version is missing or older than required ("or later" satisfies). */
export function outdatedFiles(observed: ObservedState, requiredVersions: Readonly<Record<string, string>>): string[] {
  return Object.entries(requiredVersions)
    .filter(([name, required]) => !satisfies(observed.fileVersions[name] ?? "missing", required))
    .map(([name]) => name);
}

/** Why an engine is not in its desired state; empty when it is compliant. */
export function driftReasons(observed: ObservedState, requiredVersions: Readonly<Record<string, string>>): string[] {
  const reasons = outdatedFiles(observed, requiredVersions).map(
    (name) => `${name}: ${observed.fileVersions[name] ?? "missing"} is older than ${requiredVersions[name]}`,
  );
  if (observed.restartPending) reasons.push("a restart is pending");
  if (observed.engineState !== "active") reasons.push("the engine is deactivated (out of rotation)");
  if (observed.comPlusState !== "running") reasons.push("the COM+ application is stopped");
  return reasons;
}
