import type { ObservedState } from "../domain/observation";
import type { EngineTarget, MaintenanceSettings } from "../domain/target";
import type { HostScript } from "../host/scriptAssembly";
import { scriptNames, type ScriptName } from "../host/scriptNames";

/** What running one script on an engine gives back. */
export interface ScriptResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Anything that runs a host script: the engine's connection, or a fake in unit tests. */
export interface ScriptRunner {
  run(script: HostScript, timeoutMs: number): Promise<ScriptResult>;
}

/**
 * The steps of a maintenance and of the probe, as the product names them in errors, progress and
 * the simulator's step log: one per host script, each named as its script, and verify-files right
 * after the install, which runs the probe script again. check-response asks, once the engine is
 * back, whether its COM+ component answers; installer-status asks, after a session was lost during
 * an install, whether Windows Installer is still at it.
 */
export type StepName = ScriptName | "verify-files";
export const stepNames: readonly StepName[] = scriptNames.flatMap((script): StepName[] =>
  script === "install-package" ? [script, "verify-files"] : [script],
);

export type StepStatus = "started" | "succeeded" | "failed" | "retrying";

export interface StepEvent {
  readonly engine: string;
  /** The hotfix a step is for; absent for steps of the whole engine (probe, deactivate, COM+, activate). */
  readonly hotfixId?: string;
  readonly step: StepName;
  readonly status: StepStatus;
  readonly elapsedMs?: number;
  readonly detail?: string;
}

/** What a part of the runbook needs to run steps on one engine; the runbook gives it its own. */
export interface StepContext {
  readonly target: EngineTarget;
  readonly runner: ScriptRunner;
  readonly settings: MaintenanceSettings;
  readonly stepTimeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Reports a step's progress, as the runbook's own steps do. */
  readonly emit: (step: StepName, status: StepStatus, started: number, hotfixId?: string, detail?: string) => void;
  /** Runs the probe as the step named. */
  readonly probe: (step: StepName) => Promise<ObservedState>;
}
