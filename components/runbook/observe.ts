import type { ProbeAnswer } from "../host/answers";
import type { MaintenanceLease } from "../domain/lease";
import type { ObservedState } from "../domain/observation";
import { hostPath, type EngineTarget } from "../domain/target";

/**
 * A PendingFileRenameOperations entry as a plain path: without the `\??\` (or `\\?\`) prefix of a
 * native path and the `!` that marks a target to be replaced. Empty for a deletion's target.
 */
export function renamePath(entry: string): string {
  return entry.replace(/^!/, "").replace(/^\\(\?\?|\\\?)\\/, "");
}

/** One pending rename or deletion: the file it takes, and where it goes ("" for a deletion). */
export interface PendingRename {
  readonly from: string;
  readonly to: string;
}

/** A pending rename that names a file of one of the target's hotfixes. */
export interface PendingHotfixFile extends PendingRename {
  readonly hotfix: string;
  readonly file: string;
}

/** What a probe says, read against the target. */
export interface ProbeReading {
  readonly observed: ObservedState;
  /** Pending renames whose source or target is a hotfix file: a restart is pending for those hotfixes. */
  readonly pendingHotfixFiles: readonly PendingHotfixFile[];
  /** Pending renames of other files (other updates, antivirus, drivers): a note, never drift. */
  readonly otherRenames: readonly PendingRename[];
  /** The maintenance lease on the engine, whoever holds it. */
  readonly lease?: MaintenanceLease;
}

/**
 * The value's entries as renames: pairs of source and target. Were an entry lost on the way (an
 * odd count), each entry is taken as a rename of its own, so that no hotfix file is missed.
 */
function pairsOf(entries: readonly string[]): PendingRename[] {
  const paired = entries.length % 2 === 0;
  const renames: PendingRename[] = [];
  for (let i = 0; i < entries.length; i += paired ? 2 : 1) {
    renames.push({ from: renamePath(entries[i]!), to: paired ? renamePath(entries[i + 1]!) : "" });
  }
  return renames.filter((rename) => rename.from !== "" || rename.to !== "");
}

/**
 * The probe's answer grouped by the hotfixes of the target, under the file names the target uses.
 * A restart is pending for a hotfix when a pending rename's source or target is one of its files
 * in the engine's binDir (Windows paths ignore case); any other pending rename is only noted.
 */
export function readProbe(answer: ProbeAnswer, t: EngineTarget): ProbeReading {
  const byLowerName = new Map(Object.entries(answer.files).map(([name, version]) => [name.toLowerCase(), version]));
  const files = Object.fromEntries(
    t.packages.map((p) => [
      p.hotfix,
      Object.fromEntries(
        Object.keys(t.files[p.hotfix] ?? {}).map((name) => [name, byLowerName.get(name.toLowerCase()) ?? "missing"]),
      ),
    ]),
  );
  const hotfixFiles = new Map(
    t.packages.flatMap((p) =>
      Object.keys(t.files[p.hotfix] ?? {}).map(
        (file) => [hostPath(t.host.binDir, file).toLowerCase(), { hotfix: p.hotfix, file }] as const,
      ),
    ),
  );
  const pendingHotfixFiles: PendingHotfixFile[] = [];
  const otherRenames: PendingRename[] = [];
  for (const rename of pairsOf(answer.renames)) {
    const named = hotfixFiles.get(rename.to.toLowerCase()) ?? hotfixFiles.get(rename.from.toLowerCase());
    if (named === undefined) otherRenames.push(rename);
    else pendingHotfixFiles.push({ ...rename, ...named });
  }
  return {
    observed: {
      files,
      engineState: answer.engine,
      comPlusState: answer.complus,
      ...(answer.complusResponding === undefined ? {} : { comPlusResponding: answer.complusResponding === "yes" }),
      restartPending: pendingHotfixFiles.length > 0,
    },
    pendingHotfixFiles,
    otherRenames,
    ...(answer.lease === undefined ? {} : { lease: answer.lease }),
  };
}

/** The probe's answer as the engine's observed state (see readProbe). */
export function observedFrom(answer: ProbeAnswer, t: EngineTarget): ObservedState {
  return readProbe(answer, t).observed;
}

/** A rename as an operator reads it. */
export function describeRename(rename: PendingRename): string {
  return rename.to === "" ? `delete ${rename.from}` : `${rename.from} -> ${rename.to}`;
}
