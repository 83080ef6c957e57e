import { RolloutLimits } from "../../components/domain/rollout";
import { RolloutTracker, type PoolOf } from "../../components/provider/rolloutTracker";

/**
 * rollout.minInRotation: a maintenance does not start when it would leave fewer engines of its
 * pool active and answering. The tracker counts what this run saw out (deactivated, unreachable,
 * not responding, leased) and the maintenances under way, one engine at a time, as the handlers of
 * a batch ask at once.
 */

const pool = (name: string, members: readonly string[]): PoolOf => ({ pool: name, members });
const front = pool("front", ["MPS01", "MPS02", "MPS03"]);

function tracker(limits: Partial<RolloutLimits> = {}): RolloutTracker {
  return new RolloutTracker(() => RolloutLimits.parse(limits));
}

describe("rollout.minInRotation", () => {
  test("by default a pool of two or more keeps one engine: the last one is not started", () => {
    const t = tracker();
    const two = pool("pair", ["MPS01", "MPS02"]);
    expect(t.claim("MPS01", two)).toBeUndefined();
    expect(t.claim("MPS02", two)).toBe(
      "its maintenance would leave 0 engine(s) of pool pair active and answering, fewer than rollout.minInRotation (1); out now: MPS01; the engine's maintenance was not started",
    );
    t.ended("MPS01", true);
    expect(t.claim("MPS02", two)).toBeUndefined();
  });

  test("a pool of one engine keeps none by default", () => {
    expect(tracker().claim("MPS09", pool("solo", ["MPS09"]))).toBeUndefined();
  });

  test("engines seen out count as out: a batch of two in a pool of three with one unreachable starts one", () => {
    const t = tracker();
    t.observe("MPS03", false);
    expect(t.claim("MPS01", front)).toBeUndefined();
    expect(t.claim("MPS02", front)).toBe(
      "its maintenance would leave 0 engine(s) of pool front active and answering, fewer than rollout.minInRotation (1); out now: MPS01, MPS03; the engine's maintenance was not started",
    );
  });

  test("a count per pool; an engine already out of rotation may always be maintained (it takes nothing out)", () => {
    const t = tracker({ minInRotation: { front: 2 } });
    expect(t.claim("MPS01", front)).toBeUndefined();
    expect(t.claim("MPS02", front)).toBe(
      "its maintenance would leave 1 engine(s) of pool front active and answering, fewer than rollout.minInRotation (2); out now: MPS01; the engine's maintenance was not started",
    );
    t.observe("MPS02", false);
    expect(t.claim("MPS02", front)).toBeUndefined();
  });

  test("a maintenance that failed and left its engine out keeps counting it out", () => {
    const t = tracker();
    const two = pool("pair", ["MPS01", "MPS02"]);
    expect(t.claim("MPS01", two)).toBeUndefined();
    t.ended("MPS01", false);
    expect(t.claim("MPS02", two)).toBe(
      "its maintenance would leave 0 engine(s) of pool pair active and answering, fewer than rollout.minInRotation (1); out now: MPS01; the engine's maintenance was not started",
    );
  });
});
