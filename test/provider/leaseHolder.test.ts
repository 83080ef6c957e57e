import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { leaseStanding, leaseText, type MaintenanceLease } from "../../components/domain/lease";
import { leaseHolderOfThisRun, newRunId, pidOfRun, runEndedHere } from "../../components/provider/leaseHolder";

/** A process that has certainly ended: spawnSync waits for it. */
function endedPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid;
}

function leaseOf(run: string, machine: string = leaseText(hostname())): MaintenanceLease {
  const now = Date.now();
  return {
    Stack: "prod",
    Machine: machine,
    User: "ops",
    Run: run,
    Step: "install-package",
    Started: new Date(now - 60_000).toISOString(),
    Expires: new Date(now + 30 * 60_000).toISOString(),
    Log: "none",
  };
}

describe("a lease whose run has ended on this machine", () => {
  it("names the process that holds the run's leases in the run id", () => {
    expect(pidOfRun(newRunId(new Date(), 4242))).toBe(4242);
    expect(pidOfRun("operator-chosen-id")).toBeUndefined();
  });

  it("is recovered at once when the run's process is gone from this machine", () => {
    const pid = endedPid();
    const lease = leaseOf(newRunId(new Date(), pid));
    expect(runEndedHere(lease)).toBe(`its run's process ${pid} on ${lease.Machine} has ended`);
    const standing = leaseStanding(lease, leaseHolderOfThisRun({}), new Date());
    expect(standing).toEqual({
      kind: "interrupted",
      notice: `left out of rotation by an interrupted maintenance (run ${lease.Run}, at step install-package; its run's process ${pid} on ${lease.Machine} has ended)`,
    });
  });

  it("holds while the run's process lives, on another machine, and for an id that names no process", () => {
    expect(runEndedHere(leaseOf(newRunId(new Date(), process.pid)))).toBeUndefined();
    expect(runEndedHere(leaseOf(newRunId(new Date(), endedPid()), "another-machine"))).toBeUndefined();
    expect(runEndedHere(leaseOf("operator-chosen-id"))).toBeUndefined();
    const live = leaseOf(newRunId(new Date(), process.pid));
    expect(leaseStanding(live, leaseHolderOfThisRun({}), new Date()).kind).toBe("held");
  });
});
