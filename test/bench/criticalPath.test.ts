import { accountSteps } from "../../bench/criticalPath";
import type { StepRecord } from "../../simulator/stepLog";
import type { ScriptName } from "../../components/host/scriptNames";

const delayMs = 20;
const t0 = Date.parse("2008-05-08T11:42:00.000Z");

/** A script record answered `endMs` after t0. */
function record(seq: number, host: string, script: ScriptName, endMs: number): StepRecord {
  return { seq, at: new Date(t0 + endMs).toISOString(), host, script, exitCode: 0 };
}

/** `scripts` one after another on each host, the hosts one after another (serial: 1). */
function serialRun(hosts: readonly string[], scripts: readonly ScriptName[], startMs = 0): StepRecord[] {
  let end = startMs;
  return hosts.flatMap((host) => scripts.map((script) => record(0, host, script, (end += delayMs))));
}

describe("accountSteps", () => {
  const maintenance: ScriptName[] = ["probe", "deactivate-engine", "shutdown-complus", "install-package", "probe"];

  test("a playbook (no refresh): every script of every engine in a row is on the path", () => {
    const records = serialRun(["A", "B"], maintenance);
    const account = accountSteps(records, delayMs, [["A"], ["B"]], false);
    expect(account.criticalPathSteps).toBe(10);
    expect(account.dependencyChainSteps).toBe(10);
    expect(account.perEngine).toEqual({ min: 5, max: 5 });
  });

  test("an up (refresh first): one refresh probe, then each batch's runbook", () => {
    const refresh = [record(0, "A", "probe", 20), record(0, "B", "probe", 20)];
    const records = [...refresh, ...serialRun(["A", "B"], maintenance, 20)];
    const account = accountSteps(records, delayMs, [["A"], ["B"]]);
    expect(account.criticalPathSteps).toBe(11);
    expect(account.dependencyChainSteps).toBe(11);
  });
});
