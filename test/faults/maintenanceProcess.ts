import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { z } from "zod";
import type { EngineTarget, MaintenanceSettings } from "../../components/domain/target";

/**
 * One engine's maintenance run by the built product (dist/, as `npm test` builds it before jest
 * runs) in a process of its own, which reports how the maintenance ended and how far its resident
 * memory rose while it ran. A jest worker's own memory carries the garbage of every suite it ran
 * before, so a bound on what one maintenance holds is measured here, in a process that does
 * nothing else.
 */
const maintenanceProcess = `
const { readFileSync, writeFileSync } = require("node:fs");
const dist = process.env.PRODUCT_DIST;
const { EngineTarget, MaintenanceSettings } = require(dist + "/components/domain/target.js");
const { EngineConnection } = require(dist + "/components/host/engineConnection.js");
const { Runbook } = require(dist + "/components/runbook/runbook.js");
const { RunbookError } = require(dist + "/components/runbook/runbookError.js");
const { rotationNotice } = require(dist + "/components/runbook/operatorMessages.js");
// Resident memory from /proc: writing 5 to clear_refs sets the peak (VmHWM) back to the current
// resident set, so the peak read at the end is the maintenance's alone.
const statusKb = (field) => {
  const line = new RegExp("^" + field + ":\\\\s+(\\\\d+) kB$", "m").exec(readFileSync("/proc/self/status", "utf8"));
  if (line === null) throw new Error("/proc/self/status has no " + field + " line: the memory bound cannot be checked");
  return Number(line[1]);
};
process.once("message", async (request) => {
  const target = EngineTarget.parse(request.target);
  const connection = new EngineConnection(target.engine, target.route, () => ({ password: request.password }), {
    connectTimeoutMs: 5000,
    connectAttempts: 1,
    connectRetryDelayMs: 0,
  });
  const runbook = new Runbook(target, {
    runner: connection,
    settings: MaintenanceSettings.parse(request.settings),
    packageBase64: () => request.packageBase64,
  });
  writeFileSync("/proc/self/clear_refs", "5");
  const startKb = statusKb("VmRSS");
  const outcome = await runbook.converge().then(
    () => ({ ended: "converged" }),
    (error) =>
      error instanceof RunbookError
        ? { ended: "failed", step: error.step, rotation: error.rotation, reason: error.reason, notice: rotationNotice(error) }
        : { ended: "untyped", message: String(error && error.stack) },
  );
  const peakGrowthBytes = (statusKb("VmHWM") - startKb) * 1024;
  connection.close();
  process.send({ ...outcome, peakGrowthBytes }, () => process.exit(0));
});
`;

export const MaintenanceOutcome = z.intersection(
  z.discriminatedUnion("ended", [
    z.strictObject({ ended: z.literal("converged") }),
    z.strictObject({
      ended: z.literal("failed"),
      step: z.string(),
      rotation: z.string(),
      reason: z.string(),
      notice: z.string(),
    }),
    z.strictObject({ ended: z.literal("untyped"), message: z.string() }),
  ]),
  z.object({ peakGrowthBytes: z.number() }),
);
export type MaintenanceOutcome = z.infer<typeof MaintenanceOutcome>;

export interface MaintenanceRequest {
  readonly target: EngineTarget;
  readonly settings: MaintenanceSettings;
  readonly packageBase64: string;
  readonly password: string;
}

/** Converges one engine in a process of its own; rejects, naming its stderr, if that process dies. */
export async function convergeInOwnProcess(request: MaintenanceRequest): Promise<MaintenanceOutcome> {
  const child = spawn(process.execPath, ["-e", maintenanceProcess], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...process.env, PRODUCT_DIST: join(__dirname, "..", "..", "dist") },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4000)));
  const answered = once(child, "message").then(([message]: unknown[]) => ({ message }));
  const exited = once(child, "exit").then(([code, signal]: unknown[]) => ({ code, signal }));
  child.send(request);
  const first = await Promise.race([answered, exited]);
  if (!("message" in first))
    throw new Error(
      `the maintenance process exited (code ${String(first.code)}, signal ${String(first.signal)}): ${stderr}`,
    );
  const { message } = first;
  return MaintenanceOutcome.parse(message);
}
