import type { FleetPlan } from "../components/config/fleetPlan";
import { renderScript, type HostScript } from "../components/host/scriptAssembly";
import { scriptNames, type ScriptName } from "../components/host/scriptNames";
import type { EngineTarget } from "../components/domain/target";
import { hostScripts, installLogPath, installLogTailLines } from "../components/runbook/hostScripts";

/** What `mps-hotfix script` is asked for: a step, an engine of the stack, and optionally a hotfix. */
export interface StepScriptRequest {
  readonly step: string;
  readonly engine: string;
  readonly hotfix?: string;
}

/** The script, and what an operator should know before running it by hand (printed on stderr). */
export interface StepScript {
  readonly text: string;
  readonly notes: readonly string[];
}

/** A request that names a step, an engine or a hotfix the stack does not have. */
export class StepScriptRequestError extends Error {}

const leaseSteps: readonly ScriptName[] = [
  "deactivate-engine",
  "shutdown-complus",
  "install-package",
  "start-complus",
  "activate-engine",
];

/**
 * The exact script a step sends to one engine, with the parameters the stack gives it: nothing of
 * the credentials is in any script, and the staged package (stage-package's payload) travels after
 * the script on standard input, so it is not part of it. Printed without a maintenance lease: the
 * lease parameters are empty, and a script given none neither takes nor removes one.
 */
export function stepScriptFor(plan: FleetPlan, request: StepScriptRequest, at: Date): StepScript {
  const step = scriptNames.find((name) => name === request.step);
  if (step === undefined) {
    throw new StepScriptRequestError(
      `${request.step} is not a step with a script; the steps are: ${scriptNames.join(", ")}`,
    );
  }
  const target = plan.engines.find((engine) => engine.engine === request.engine);
  if (target === undefined) {
    throw new StepScriptRequestError(
      `stack ${plan.stack}: --engine ${request.engine}: no such engine; the stack's engines are: ${plan.engines.map((e) => e.engine).join(", ")}`,
    );
  }
  const pkg =
    request.hotfix === undefined ? target.packages[0]! : target.packages.find((p) => p.hotfix === request.hotfix);
  if (pkg === undefined) {
    throw new StepScriptRequestError(
      `stack ${plan.stack}: --hotfix ${request.hotfix}: engine ${target.engine} carries ${target.packages.map((p) => p.hotfix).join(", ")} only`,
    );
  }
  const logPath = installLogPath(target, pkg, at, 1);
  const scripts: Readonly<Record<ScriptName, () => HostScript>> = {
    probe: () => hostScripts.probe(target),
    "stage-package": () => hostScripts.stagePackage(target, pkg, ""),
    "deactivate-engine": () => hostScripts.deactivateEngine(target),
    "shutdown-complus": () => hostScripts.shutdownComPlus(target, plan.rollout.complusShutdownTimeoutSeconds),
    "install-package": () => hostScripts.installPackage(target, pkg, logPath),
    "start-complus": () => hostScripts.startComPlus(target),
    "activate-engine": () => hostScripts.activateEngine(target),
    "check-response": () => hostScripts.checkResponse(target),
    "read-install-log": () => hostScripts.readInstallLog(logPath, installLogTailLines),
    "installer-status": () => hostScripts.installerStatus(logPath),
  };
  return { text: renderScript(scripts[step]()), notes: notesFor(step, target, pkg.file, logPath) };
}

function notesFor(step: ScriptName, target: EngineTarget, packageFile: string, logPath: string): string[] {
  const notes: string[] = [];
  if (target.route.kind === "relay") {
    notes.push(
      `${target.engine} is reached through the relay ${target.route.relay.host}: the product sends this script inside relay.ps1, which runs it on ${target.route.engineHost} with Invoke-Command`,
    );
  }
  if (step === "stage-package") {
    notes.push(`the package (${packageFile}, base64) follows the script on standard input and is not printed`);
  }
  if (leaseSteps.includes(step)) {
    notes.push("printed without a maintenance lease: during up the product fills LeaseRun, LeaseTakeover and Lease");
  }
  if (step === "install-package" || step === "read-install-log" || step === "installer-status") {
    notes.push(`the install log path is the one a first attempt would use now: ${logPath}`);
  }
  return notes;
}
