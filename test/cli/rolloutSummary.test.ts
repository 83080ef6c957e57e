import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import { failureLines } from "../../cli/hotfixSteps";
import { renderRolloutSummary, summarizeRollout } from "../../cli/rolloutSummary";
import { findHotfix } from "../../components/domain/catalog";
import { inRotation, type ObservedState } from "../../components/domain/observation";
import { engineHotfixesType } from "../../components/engineHotfixes";

const kb = findHotfix("KB952089");
if (kb === undefined) throw new Error("the built-in catalog has no KB952089");
const file = kb.files[0]!;
const required = { KB952089: { [file.name]: file.version } };
const old = "13.3.600.0";

/** An engine's reading, as the provider records it (EngineHotfixesState's observed part, the requirement). */
function reading(engine: string, version: string, state: Partial<ObservedState> = {}): Record<string, unknown> {
  return { engine, ...inRotation, files: { KB952089: { [file.name]: version } }, required, ...state };
}

const urnOf = (engine: string): string =>
  `urn:pulumi:s::mps-hotfix::mpshotfix:index:Fleet$mpshotfix:index:EngineServer$${engineHotfixesType}::fleet-${engine.toLowerCase()}-hotfixes`;

function metadata(
  engine: string,
  op: OpType,
  before?: Record<string, unknown>,
  after?: Record<string, unknown>,
): StepEventMetadata {
  const state = (outputs: Record<string, unknown>): NonNullable<StepEventMetadata["new"]> => ({
    type: engineHotfixesType,
    urn: urnOf(engine),
    id: engine,
    parent: "",
    inputs: { engine },
    outputs,
    provider: "",
  });
  return {
    op,
    urn: urnOf(engine),
    type: engineHotfixesType,
    provider: "",
    new: state(after ?? {}),
    ...(before !== undefined ? { old: state(before) } : {}),
  };
}

let sequence = 0;
const event = (body: Omit<EngineEvent, "sequence" | "timestamp">): EngineEvent => ({
  sequence: ++sequence,
  timestamp: 0,
  ...body,
});

/** The events of an up's refresh of one engine: what it read. */
function refreshed(engine: string, read: Record<string, unknown>): EngineEvent[] {
  const meta = metadata(engine, "refresh", read, read);
  return [event({ resourcePreEvent: { metadata: meta } }), event({ resOutputsEvent: { metadata: meta } })];
}

/** The events of one engine's step: started, then ended with `outputs`, failed with `error`, or neither. */
function stepped(
  engine: string,
  op: OpType,
  end: { before?: Record<string, unknown>; outputs?: Record<string, unknown>; error?: string },
): EngineEvent[] {
  const started = event({ resourcePreEvent: { metadata: metadata(engine, op, end.before) } });
  if (end.outputs !== undefined) {
    return [started, event({ resOutputsEvent: { metadata: metadata(engine, op, end.before, end.outputs) } })];
  }
  if (end.error !== undefined) {
    // As the engine reports a maintenance that recorded a partial state: the provider's "FAILED"
    // line in the engine's log (no resource), then the engine's own error for the resource.
    return [
      started,
      event({
        diagnosticEvent: { message: `[${engine}] FAILED: ${end.error}\n`, color: "never", severity: "info" },
      }),
      event({
        diagnosticEvent: { urn: urnOf(engine), message: "resource init failed\n", color: "never", severity: "error" },
      }),
      event({ resOpFailedEvent: { metadata: metadata(engine, op, end.before), status: 0, steps: 0 } }),
    ];
  }
  return [started];
}

const patchedBy = { lastMaintenance: { installed: ["KB952089"], restoredRotation: true } };
const untouched = { lastMaintenance: { installed: [], restoredRotation: false } };

describe("the rollout summary says what happened", () => {
  it("calls an engine patched only when its update completed, installed the hotfix and its outputs meet the requirement", () => {
    const events = [
      ...stepped("MPS01", "update", {
        before: reading("MPS01", old),
        outputs: { ...reading("MPS01", file.version), ...patchedBy },
      }),
      // It installed, but the reading after it is still below the requirement.
      ...stepped("MPS02", "update", {
        before: reading("MPS02", old),
        outputs: { ...reading("MPS02", old), ...patchedBy },
      }),
    ];
    const summary = summarizeRollout(["MPS01", "MPS02"], events);
    expect(summary.patched).toEqual(["MPS01"]);
    expect(summary.short).toEqual(["MPS02"]);
  });

  it("never calls a compliant engine patched, even when the stack's first up creates it", () => {
    const events = [
      ...stepped("MPS01", "create", { outputs: { ...reading("MPS01", file.version), ...untouched } }),
      ...stepped("MPS02", "create", { outputs: { ...reading("MPS02", file.version), ...patchedBy } }),
    ];
    expect(renderRolloutSummary(summarizeRollout(["MPS01", "MPS02"], events))).toBe(
      [
        "Rollout summary:",
        "  1 patched (MPS02)",
        "  1 already compliant (MPS01)",
        "  0 failed",
        "  0 skipped: the rollout halted before them",
      ].join("\n"),
    );
  });

  it("says an engine it only put back into rotation was put back, not patched", () => {
    const events = stepped("MPS01", "update", {
      before: reading("MPS01", file.version, { engineState: "deactivated" }),
      outputs: { ...reading("MPS01", file.version), lastMaintenance: { installed: [], restoredRotation: true } },
    });
    const summary = summarizeRollout(["MPS01"], events);
    expect([summary.patched, summary.restored]).toEqual([[], ["MPS01"]]);
  });

  it("calls an update that started and never ended interrupted, with what was last known of the engine", () => {
    const events = [
      ...stepped("MPS01", "update", { before: reading("MPS01", old) }),
      ...stepped("MPS02", "create", {}),
    ];
    const summary = summarizeRollout(["MPS01", "MPS02", "MPS03"], events);
    expect(summary.interrupted).toEqual(["MPS01", "MPS02"]);
    expect(summary.patched).toEqual([]);
    expect(renderRolloutSummary(summary)).toBe(
      [
        "Rollout summary:",
        "  0 patched",
        "  0 already compliant",
        "  0 failed",
        "  2 INTERRUPTED: the run stopped during their maintenance (MPS01, MPS02)",
        "    engine MPS01: the update started and did not end (last read in rotation, COM+ running); run preview to see where it stands",
        "    engine MPS02: the create started and did not end (never read by this stack); run preview to see where it stands",
        "  1 skipped: the rollout halted before them (MPS03)",
      ].join("\n"),
    );
  });

  it("lists under NOT RESPONDING every engine the run saw not responding, and one the halt kept it from that was last recorded so", () => {
    const wedged = { comPlusResponding: false };
    const events = [
      ...refreshed("MPS01", reading("MPS01", old)),
      ...refreshed("MPS02", reading("MPS02", file.version, wedged)),
      ...stepped("MPS02", "same", { before: reading("MPS02", file.version, wedged) }),
      ...stepped("MPS01", "update", {
        before: reading("MPS01", old),
        error: "engine MPS01: step install-package failed: x",
      }),
    ];
    // The engine refreshes each resource as the program registers it: none after the halt.
    const recorded = new Map([
      ["MPS03", reading("MPS03", file.version, wedged)],
      ["MPS04", reading("MPS04", file.version)],
    ]);
    const summary = summarizeRollout(["MPS01", "MPS02", "MPS03", "MPS04"], events, recorded);
    expect(summary.skipped).toEqual(["MPS03", "MPS04"]);
    expect(summary.notResponding).toEqual(["MPS02", "MPS03"]);
  });

  it("names the engine, the step and the reason of each failure in one line of the product's own", () => {
    const events = [
      ...stepped("MPS01", "update", {
        before: reading("MPS01", old),
        error:
          "engine MPS01: step install-package failed: KB952089: msiexec exit code 1603 (fatal error during installation)\n  engine MPS01 is back in rotation (COM+ application started, engine activated)",
      }),
      // Within rollout.maxFailures the engine's outputs carry the reason instead of an error.
      ...stepped("MPS02", "update", {
        before: reading("MPS02", old),
        outputs: {
          ...reading("MPS02", old),
          lastRun: { outcome: "failed", reason: "engine MPS02: step shutdown-complus failed: timed out\n  more" },
        },
      }),
    ];
    // An error the provider raised without a partial state reaches the resource's own error.
    events.push(
      ...stepped("MPS03", "create", {}).slice(0, 1),
      event({
        diagnosticEvent: {
          urn: urnOf("MPS03"),
          message: "error: engine MPS03: step probe failed: cannot connect\n",
          color: "never",
          severity: "error",
        },
      }),
      event({ resOpFailedEvent: { metadata: metadata("MPS03", "create"), status: 0, steps: 0 } }),
    );
    expect(failureLines(events)).toEqual([
      "engine MPS01: step install-package failed: KB952089: msiexec exit code 1603 (fatal error during installation)",
      "engine MPS02: step shutdown-complus failed: timed out",
      "engine MPS03: step probe failed: cannot connect",
    ]);
  });
});
