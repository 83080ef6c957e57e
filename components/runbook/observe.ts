import type { ProbeAnswer } from "../host/answers";
import type { ObservedState } from "../domain/observation";
import type { EngineTarget } from "../domain/target";

/** The probe's answer grouped by the hotfixes of the target, under the file names the target uses. */
export function observedFrom(answer: ProbeAnswer, t: EngineTarget): ObservedState {
  const byLowerName = new Map(Object.entries(answer.files).map(([name, version]) => [name.toLowerCase(), version]));
  const files = Object.fromEntries(
    t.packages.map((p) => [
      p.hotfix,
      Object.fromEntries(
        Object.keys(t.files[p.hotfix] ?? {}).map((name) => [name, byLowerName.get(name.toLowerCase()) ?? "missing"]),
      ),
    ]),
  );
  return {
    files,
    engineState: answer.engine,
    comPlusState: answer.complus,
    restartPending: answer.restart === "pending",
  };
}
