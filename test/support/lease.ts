import { MaintenanceLease } from "../../components/domain/lease";
import type { SimulatedFleet } from "../../simulator/server";
import type { StepName } from "../../components/runbook/steps";
import type { LeaseWrite } from "../../components/runbook/hostScripts";

/** A run id as leaseHolder.ts makes them. */
export const testRunId = "20240301T102030Z-0a1b2c";

/** The lease a run writes at `step`, as the runbook fills it in. */
export function leaseAt(step: StepName, overrides: Partial<MaintenanceLease> = {}): LeaseWrite {
  return {
    fields: {
      Stack: "demo",
      Machine: "ops-laptop",
      User: "operator",
      Run: testRunId,
      Step: step,
      Started: "2024-03-01T10:20:30.000Z",
      Expires: "2024-03-01T10:55:30.000Z",
      Log: "none",
      ...overrides,
    },
  };
}

/** The maintenance lease a simulated engine holds now, read as the product reads the probe's lease lines. */
export function leaseOnHost(fleet: Pick<SimulatedFleet, "host">, engine: string): MaintenanceLease | undefined {
  const values = fleet.host(engine).lease;
  return values === undefined ? undefined : MaintenanceLease.parse(values);
}
