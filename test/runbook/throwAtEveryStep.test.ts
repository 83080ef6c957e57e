import { RelayStepError } from "../../components/host/engineConnection";
import type { ScriptName } from "../../components/host/scriptNames";
import { TransportError } from "../../components/host/sshSession";
import type { StepEvent, StepName } from "../../components/runbook/steps";
import { Runbook } from "../../components/runbook/runbook";
import { RunbookError, type Rotation } from "../../components/runbook/runbookError";
import { rotationNotice } from "../../components/runbook/operatorMessages";
import { asHost, fakeHost, type FakeHostOptions, type Reply } from "../support/fakeHost";
import { kbRunbookScripts } from "../support/kbRunbook";
import { engineTarget, maintenanceSettings, packageBase64Of } from "../support/targets";

/**
 * No error in a runbook after deactivation escapes without the restore being attempted and its
 * outcome said: a fake host throws at each step of a maintenance in turn, with each kind of error
 * the runner can throw (a lost or flooded connection and a bug, straight to the engine; a WinRM
 * failure or an error raised on the engine, through a relay), and the runbook must put the engine
 * back, or say in capitals that it could not.
 */

const target = engineTarget();

/** Where each step of a maintenance is in the fake host's replies: its script, and which call of it. */
const stepCalls: readonly { readonly step: StepName; readonly key: keyof FakeHostOptions; readonly call: number }[] = [
  { step: "probe", key: "probe", call: 0 },
  { step: "stage-package", key: "stage", call: 0 },
  { step: "deactivate-engine", key: "deactivate", call: 0 },
  { step: "shutdown-complus", key: "shutdown", call: 0 },
  { step: "install-package", key: "install", call: 0 },
  { step: "verify-files", key: "probe", call: 1 },
  { step: "start-complus", key: "start", call: 0 },
  { step: "activate-engine", key: "activate", call: 0 },
  { step: "check-response", key: "checkResponse", call: 0 },
];

/** The errors a ScriptRunner throws: EngineConnection's, straight and through a relay, and any other. */
const thrown: Readonly<Record<string, () => Error>> = {
  "direct: connection lost": () => new TransportError("connection-lost", "connection to MPS01 lost: read ECONNRESET"),
  "direct: answer too large": () =>
    new TransportError("answer-too-large", "MPS01 answered more than 4194304 bytes (the limit of a step's answer)"),
  "direct: step timeout": () => new TransportError("step-timeout", "MPS01 did not answer within 60s"),
  "relay: WinRM unreachable": () =>
    new TransportError("unreachable", "relay RELAY01 could not reach engine MPS01 (mps01) over WinRM: lost"),
  "relay: error on the engine": () =>
    new RelayStepError("relay RELAY01 reached engine MPS01 (mps01) over WinRM, but the step failed with an error"),
  "any: a bug in the product": () => new TypeError("Cannot read properties of undefined (reading 'stdout')"),
};

/** A reply queue that answers as the host `call` times, then throws. */
function throwAt(call: number, error: Error): Reply[] {
  return [...Array<Reply>(call).fill(asHost), error];
}

function rig(options: FakeHostOptions) {
  const host = fakeHost(options);
  const events: StepEvent[] = [];
  const runbook = new Runbook(target, {
    runner: host,
    settings: maintenanceSettings({ stepTimeoutSeconds: 60, installRetryDelaySeconds: 0, installWaitSeconds: 0 }),
    packageBase64: packageBase64Of,
    onStep: (event) => void events.push(event),
    sleep: async () => undefined,
  });
  return { host, runbook, events };
}

async function failureOf(run: Promise<unknown>): Promise<RunbookError> {
  const outcome = await run.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof RunbookError)) throw new Error(`expected a RunbookError, got ${String(outcome)}`);
  return outcome;
}

const beforeDeactivation: readonly StepName[] = ["probe", "stage-package"];
const cases = stepCalls.flatMap((at) => Object.keys(thrown).map((kind) => [at.step, kind] as const));

describe("a throw at every step of a maintenance", () => {
  test("the fake host's own maintenance is the KB's (the baseline every case departs from)", async () => {
    const { host, runbook } = rig({});
    await runbook.converge();
    expect(host.scripts).toEqual(kbRunbookScripts);
  });

  test.each(cases)("at %s (%s): the engine is put back, or said to be left out", async (step, kind) => {
    const at = stepCalls.find((c) => c.step === step)!;
    const { host, runbook, events } = rig({ [at.key]: throwAt(at.call, thrown[kind]!()) });
    const error = await failureOf(runbook.converge());

    expect(error.step).toBe(step);
    expect(events.filter((e) => e.status === "failed").map((e) => e.step)[0]).toBe(step);
    const expected: Rotation = beforeDeactivation.includes(step)
      ? "untouched"
      : step === "check-response"
        ? "in-rotation-not-responding"
        : "restored";
    expect(error.rotation).toBe(expected);
    if (expected === "untouched") {
      expect(host.scripts).not.toContain("deactivate-engine");
      expect(host.state.engine).toBe("active");
    } else {
      // Whatever was thrown, the engine ends activated with COM+ running, and the last scripts said so.
      expect([host.state.engine, host.state.complus]).toEqual(["active", "running"]);
      const tail: ScriptName[] =
        step === "check-response" ? ["activate-engine", "check-response"] : ["start-complus", "activate-engine"];
      expect(host.scripts.slice(-2)).toEqual(tail);
    }
    expect(rotationNotice(error)).toMatch(/^(engine MPS01|ENGINE MPS01)/);
  });

  test.each(stepCalls.filter((c) => !beforeDeactivation.includes(c.step) && c.step !== "check-response"))(
    "at $step, with the restore failing too: the engine is named as out of rotation, in capitals",
    async (at) => {
      const restoreFails = new TransportError("connection-lost", "connection to MPS01 lost: read ECONNRESET");
      const first = new TransportError("step-timeout", "MPS01 did not answer within 60s");
      // start-complus is called once before the restore on the way back; its next call is the restore's.
      const startCallsBefore = at.step === "start-complus" || at.step === "activate-engine" ? 1 : 0;
      const options: FakeHostOptions =
        at.key === "start"
          ? { start: [first, restoreFails] }
          : { [at.key]: throwAt(at.call, first), start: throwAt(startCallsBefore, restoreFails) };
      const { host, runbook } = rig(options);
      const error = await failureOf(runbook.converge());
      expect(error.step).toBe(at.step);
      expect(error.rotation).toBe("left-out-restore-failed");
      expect(error.reason).toContain(`putting the engine back into rotation failed too: ${restoreFails.message}`);
      expect(rotationNotice(error)).toBe(
        `ENGINE MPS01 IS OUT OF ROTATION: it could not be put back (deactivated, COM+ application possibly stopped); act now: the next "up" retries`,
      );
      expect(host.scripts.at(-1)).toBe("start-complus");
    },
  );
});
