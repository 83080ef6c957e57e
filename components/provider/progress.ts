import type { StepEvent } from "../runbook/steps";

function seconds(ms: number | undefined): string {
  return ms === undefined ? "" : ` (${(ms / 1000).toFixed(1)}s)`;
}

/**
 * One progress line per step event: "[MPS01 2 of 4] KB952089 install-package: done (4.2s)" for a
 * hotfix's step, "[MPS01 2 of 4] deactivate-engine: done (0.3s)" for a step of the whole engine.
 */
export function progressLine(event: StepEvent, position: string | undefined): string {
  const engine = position === undefined ? event.engine : `${event.engine} ${position}`;
  const where = `[${engine}] ${event.hotfixId === undefined ? "" : `${event.hotfixId} `}${event.step}`;
  switch (event.status) {
    case "started":
      return `${where}: started`;
    case "succeeded":
      return `${where}: done${seconds(event.elapsedMs)}`;
    case "retrying":
      return `${where}: ${event.detail ?? "retrying"}`;
    case "failed":
      return `${where}: failed${seconds(event.elapsedMs)}: ${event.detail ?? ""}`;
  }
}
