import { leaseSeconds, type LeaseHolder } from "../../components/domain/lease";
import { EngineConnection } from "../../components/host/engineConnection";
import { Runbook } from "../../components/runbook/runbook";
import { RunbookError } from "../../components/runbook/runbookError";
import type { SimulatedFleet } from "../../simulator/server";
import { hostNamed, password, startFleet } from "../simulator/helpers";
import { leaseAt, leaseOnHost, testRunId } from "../support/lease";
import { engineTarget, kbFile, maintenanceSettings, packageBase64Of, sshEndpoint } from "../support/targets";

/**
 * The maintenance lease on the engine, read where it lives (the simulated host's registry key):
 * written before deactivation, renewed at every step, removed once the engine is active again; a
 * live lease of another run keeps a maintenance off the engine; an ended one is recovered first.
 */

const oldDll = { [kbFile.name]: "13.3.600.0" };
const settings = maintenanceSettings({ stepTimeoutSeconds: 60, installRetryDelaySeconds: 0, installWaitSeconds: 5 });
const now = new Date("2026-12-07T03:00:00.000Z");
const holder: LeaseHolder = {
  stack: "demo",
  machine: "ops-laptop",
  user: "operator",
  run: "20261207T030000Z-aaaaaa",
  recoverRuns: [],
};
/** A lease another run wrote at install-package: started 10 minutes ago, with `expires` as given. */
const otherRun = (expires: string): Record<string, string> => ({
  ...leaseAt("install-package", {
    Started: "2026-12-07T02:50:00.000Z",
    Expires: expires,
    Log: "C:\\Windows\\Temp\\mps-hotfix\\KB952089-20261207-025200-attempt1.log",
  }).fields,
});

describe("the maintenance lease on a simulated engine", () => {
  let fleet: SimulatedFleet;
  beforeEach(async () => {
    fleet = await startFleet({ engines: [{ name: "MPS01", files: oldDll }] }, { clock: () => now });
  });
  afterEach(() => fleet.stop());

  function runbookAs(lease: LeaseHolder): { runbook: Runbook; connection: EngineConnection } {
    const host = hostNamed(fleet, "MPS01");
    const target = engineTarget({
      route: { kind: "direct", endpoint: sshEndpoint("MPS01", { host: host.address, port: host.port }) },
    });
    const connection = new EngineConnection("MPS01", target.route, () => ({ password }), {
      connectTimeoutMs: 5000,
      connectAttempts: 1,
      connectRetryDelayMs: 0,
    });
    const runbook = new Runbook(target, {
      runner: connection,
      settings,
      packageBase64: packageBase64Of,
      lease,
      now: () => now,
      sleep: async () => undefined,
    });
    return { runbook, connection };
  }

  /** The lease's step (or "none") on the host as each script is recorded, in order. */
  function leaseAsStepsRun(): [string, string][] {
    const seen: [string, string][] = [];
    fleet.onStep((record) => {
      if (record.host === "MPS01" && record.script !== "connect")
        seen.push([record.script, leaseOnHost(fleet, "MPS01")?.Step ?? "none"]);
    });
    return seen;
  }

  test("written before deactivation, renewed at every step, removed once the engine is active", async () => {
    const seen = leaseAsStepsRun();
    const { runbook, connection } = runbookAs(holder);
    await runbook.converge();
    connection.close();
    expect(seen).toEqual([
      ["probe", "none"],
      ["stage-package", "none"],
      ["deactivate-engine", "deactivate-engine"],
      ["shutdown-complus", "shutdown-complus"],
      ["install-package", "install-package"],
      ["probe", "install-package"],
      ["start-complus", "start-complus"],
      ["activate-engine", "none"],
      ["check-response", "none"],
    ]);
    expect(leaseOnHost(fleet, "MPS01")).toBeUndefined();
  });

  test("what the lease holds while the install runs: who, which run, since when, until when, the install's log", async () => {
    let during: unknown;
    fleet.onStep((record) => {
      if (record.script === "install-package") during = leaseOnHost(fleet, "MPS01");
    });
    const { runbook, connection } = runbookAs(holder);
    await runbook.converge();
    connection.close();
    const expires = new Date(now.getTime() + leaseSeconds(settings, 30) * 1000).toISOString();
    expect(during).toEqual({
      Stack: "demo",
      Machine: "ops-laptop",
      User: "operator",
      Run: holder.run,
      Step: "install-package",
      Started: now.toISOString(),
      Expires: expires,
      Log: "C:\\Windows\\Temp\\mps-hotfix\\KB952089-20261207-030000-attempt1.log",
    });
  });

  test("another run's live lease: no maintenance starts, and the error names who, since when and the step", async () => {
    fleet.alter("MPS01", { engine: "deactivated", complus: "stopped", lease: otherRun("2026-12-07T03:25:00.000Z") });
    const { runbook, connection } = runbookAs(holder);
    const failure = await runbook.converge().then(
      () => undefined,
      (error: unknown) => error,
    );
    connection.close();
    expect(failure).toBeInstanceOf(RunbookError);
    const error = failure as RunbookError;
    expect([error.step, error.rotation]).toEqual(["probe", "untouched"]);
    expect(error.reason).toBe(
      `in maintenance by operator on ops-laptop (stack demo, run ${testRunId}) since 2026-12-07T02:50:00.000Z, at install-package (its lease holds until 2026-12-07T03:25:00.000Z; if that run is gone, up --recover-run ${testRunId} takes it over); no maintenance was started there`,
    );
    expect(fleet.log().map((r) => r.script)).toEqual(["connect", "probe"]);
    expect(leaseOnHost(fleet, "MPS01")?.Run).toBe(testRunId);
  });

  test("the probe reports another run's lease as part of what it observed, never as compliant", async () => {
    fleet.alter("MPS01", { files: { [kbFile.name]: kbFile.version }, lease: otherRun("2026-12-07T02:55:00.000Z") });
    const { runbook, connection } = runbookAs(holder);
    const observed = await runbook.probe();
    connection.close();
    expect(observed.maintenance).toBe(
      `left out of rotation by an interrupted maintenance (run ${testRunId}, at step install-package; its lease expired at 2026-12-07T02:55:00.000Z)`,
    );
  });

  test.each([
    ["expired", "2026-12-07T02:55:00.000Z", holder],
    ["named by --recover-run", "2026-12-07T03:25:00.000Z", { ...holder, recoverRuns: [testRunId] }],
  ] as const)(
    "a lease that ended (%s): the engine is recovered first, then maintained as usual",
    async (_why, expires, as) => {
      fleet.alter("MPS01", { engine: "deactivated", complus: "stopped", lease: otherRun(expires) });
      const { runbook, connection } = runbookAs(as);
      await runbook.converge();
      connection.close();
      expect(
        fleet
          .log()
          .filter((r) => r.script !== "connect")
          .map((r) => r.script),
      ).toEqual([
        "probe",
        // Recovery: Windows Installer must be done, the files read, the engine put back.
        "installer-status",
        "probe",
        "start-complus",
        "activate-engine",
        "probe",
        // Then the maintenance it needed anyway.
        "stage-package",
        "deactivate-engine",
        "shutdown-complus",
        "install-package",
        "probe",
        "start-complus",
        "activate-engine",
        "check-response",
      ]);
      const host = fleet.host("MPS01");
      expect([host.engine, host.complus, host.files[kbFile.name]]).toEqual(["active", "running", kbFile.version]);
      expect(leaseOnHost(fleet, "MPS01")).toBeUndefined();
    },
  );
});
