import { z } from "zod";
import { satisfies } from "../components/domain/fileVersion";
import { notResponding } from "../components/domain/observation";
import { EngineHotfixesInputs, type EngineHotfixesState } from "../components/provider/resourceState";
import { readStoredState } from "../components/provider/stateMigration";
import type { HotfixStep } from "./hotfixSteps";

/** The JSON a drift report prints; documented in docs/operator-guide.md ("Drift report for code review"). */
export const DriftReport = z.strictObject({
  schema: z.literal("mps-hotfix/drift-report/v1"),
  stack: z.string(),
  /** Per hotfix: how many engines need work out of how many must carry it. */
  summary: z.record(z.string(), z.strictObject({ needWork: z.number().int(), engines: z.number().int() })),
  engines: z.array(
    z.strictObject({
      engine: z.string(),
      hotfix: z.string(),
      /** What `up` would do: nothing, the runbook, put the engine back into rotation, register it, or stop at a pending restart. */
      action: z.enum([
        "none",
        "runbook",
        "restore-rotation",
        "register",
        "restart-required",
        "update-connection",
        "unreachable",
        "not-responding",
      ]),
      /** Whether `up` has anything to do on this engine, or could not tell (unreachable): never compliant by default. */
      needsWork: z.boolean(),
      /** Why the refresh could not read the engine; null when it could. */
      unreachable: z.string().nullable(),
      files: z.array(
        z.strictObject({
          name: z.string(),
          /** The deployed version, "missing", or null when the stack has not read this engine yet. */
          deployed: z.string().nullable(),
          required: z.string(),
          compliant: z.boolean().nullable(),
        }),
      ),
      engineState: z.string().nullable(),
      comPlusState: z.string().nullable(),
      /** Whether the running COM+ application's component answered; false is KB952089's symptom; null when not asked. */
      comPlusResponding: z.boolean().nullable(),
      restartPending: z.boolean().nullable(),
    }),
  ),
});
export type DriftReport = z.infer<typeof DriftReport>;
type EngineEntry = DriftReport["engines"][number];

const RequiredInputs = EngineHotfixesInputs.pick({ engine: true, packages: true, files: true }).strip();

function actionOf(
  step: HotfixStep,
  files: EngineEntry["files"],
  observed: EngineHotfixesState | undefined,
): EngineEntry["action"] {
  if (observed !== undefined && observed.unreachable === undefined && notResponding(observed)) return "not-responding";
  if (step.op === "same") return "none";
  if (observed === undefined) return "register";
  if (observed.unreachable !== undefined) return "unreachable";
  if (files.some((f) => f.compliant === false)) return observed.restartPending ? "restart-required" : "runbook";
  if (observed.restartPending) return "restart-required";
  if (observed.engineState !== "active" || observed.comPlusState !== "running") return "restore-rotation";
  return "none";
}

/** The report's entries for one engine's step: one per hotfix it must carry, in catalog order. */
function entriesOf(step: HotfixStep): EngineEntry[] {
  const required = RequiredInputs.parse(step.metadata.new?.inputs);
  const oldOutputs = step.metadata.old?.outputs;
  const observed = oldOutputs === undefined ? undefined : readStoredState(required.engine, oldOutputs);
  const entries = required.packages.map(({ hotfix }): EngineEntry => {
    const files = Object.entries(required.files[hotfix] ?? {}).map(([name, version]) => {
      const deployed = observed?.files[hotfix]?.[name] ?? null;
      return { name, deployed, required: version, compliant: deployed === null ? null : satisfies(deployed, version) };
    });
    const action = actionOf(step, files, observed);
    return {
      engine: required.engine,
      hotfix,
      action,
      // An engine that does not respond is left alone by up; it needs work when its files do.
      needsWork: action === "not-responding" ? files.some((f) => f.compliant === false) : action !== "none",
      unreachable: observed?.unreachable ?? null,
      files,
      engineState: observed?.engineState ?? null,
      comPlusState: observed?.comPlusState ?? null,
      comPlusResponding: observed?.comPlusResponding ?? null,
      restartPending: observed?.restartPending ?? null,
    };
  });
  // A change nothing above explains is to the way the engine is reached.
  if (step.op === "update" && entries.every((e) => e.action === "none")) {
    return entries.map((e) => ({ ...e, action: "update-connection", needsWork: true }));
  }
  return entries;
}

/** A report of what a preview found, engine by engine, from the engine's own step events. */
export function buildDriftReport(stack: string, steps: readonly HotfixStep[]): DriftReport {
  const engines = steps.flatMap(entriesOf);
  // A preview runs engines in parallel, so events arrive in any order; the report reads by name.
  engines.sort((a, b) => a.engine.localeCompare(b.engine, "en", { numeric: true }));
  const summary: DriftReport["summary"] = {};
  for (const entry of engines) {
    const line = summary[entry.hotfix] ?? { needWork: 0, engines: 0 };
    summary[entry.hotfix] = { needWork: line.needWork + (entry.needsWork ? 1 : 0), engines: line.engines + 1 };
  }
  return { schema: "mps-hotfix/drift-report/v1", stack, summary, engines };
}

const actionText: Readonly<Record<EngineEntry["action"], string>> = {
  none: "nothing (compliant)",
  runbook: "run the runbook",
  "restore-rotation": "put back into rotation",
  register: "register (not managed yet)",
  "restart-required": "none until the host restarts",
  "update-connection": "record new connection settings",
  unreachable: "nothing until it can be reached",
  "not-responding": "nothing: not responding, the server needs a restart",
};

/** Markdown for a pull request: a summary line per hotfix, then one row per engine and file. */
export function renderMarkdown(report: DriftReport): string {
  const lines = [`### mps-hotfix drift report: stack \`${report.stack}\``, ""];
  for (const [hotfix, line] of Object.entries(report.summary)) {
    lines.push(`**${line.needWork} of ${line.engines} engines need ${hotfix}.**`);
  }
  const unreachable = [
    ...new Map(report.engines.flatMap((e) => (e.unreachable === null ? [] : [[e.engine, e.unreachable]]))).entries(),
  ];
  if (unreachable.length > 0) {
    lines.push(
      "",
      `**${unreachable.length} engine(s) could not be reached; their rows show what was last known:**`,
      "",
    );
    for (const [engine, reason] of unreachable) lines.push(`- ${engine}: ${reason}`);
  }
  const notRespondingEngines = [
    ...new Set(report.engines.filter((e) => e.action === "not-responding").map((e) => e.engine)),
  ];
  if (notRespondingEngines.length > 0) {
    lines.push(
      "",
      `**${notRespondingEngines.length} engine(s) not responding (KB952089's symptom): the server needs a restart, which mps-hotfix never does:** ${notRespondingEngines.join(", ")}`,
    );
  }
  lines.push(
    "",
    "| Engine | Hotfix | File | Deployed | Required | Engine state | COM+ | `up` will |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const entry of report.engines) {
    for (const file of entry.files) {
      const deployed = file.deployed ?? "not read yet";
      const mark = file.compliant === false ? ` ⚠` : "";
      lines.push(
        `| ${entry.engine} | ${entry.hotfix} | ${file.name} | ${deployed}${mark} | ${file.required} | ${entry.engineState ?? "?"} | ${entry.comPlusState ?? "?"} | ${actionText[entry.action]} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
