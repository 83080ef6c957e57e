import type { StepEvent } from "../runbook/runbook";

function seconds(ms: number | undefined): string {
  return ms === undefined ? "" : ` (${(ms / 1000).toFixed(1)}s)`;
}

/** One progress line per step event: "[MPS01 2 of 4] KB952089 install-package: done (4.2s)". */
export function progressLine(event: StepEvent, position: string): string {
  const where = `[${event.engine} ${position}] ${event.hotfixId} ${event.step}`;
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
