import type { ScriptName } from "../components/host/scriptNames";
import type { Clock } from "./engineHost";

export type StepKind = ScriptName | "connect" | "auth-rejected" | "rejected-command" | "symptom";

export interface StepRecord {
  /** 1, 2, 3, ... in the order the simulator saw the events. */
  readonly seq: number;
  /** ISO 8601 with milliseconds. */
  readonly at: string;
  /** The engine a script ran on, or the host a connection reached. */
  readonly host: string;
  /** The relay a script came through. */
  readonly via?: string;
  readonly script: StepKind;
  readonly exitCode?: number;
  readonly detail?: string;
}

export type StepDraft = Omit<StepRecord, "seq" | "at">;

export type StepListener = (record: StepRecord) => void;

/** The fleet's record of everything that happened on its hosts, in order. */
export class StepLog {
  private readonly records: StepRecord[] = [];
  private readonly listeners = new Set<StepListener>();

  constructor(private readonly clock: Clock) {}

  append(draft: StepDraft): StepRecord {
    const record: StepRecord = { seq: this.records.length + 1, at: this.clock().toISOString(), ...draft };
    this.records.push(record);
    for (const listener of this.listeners) listener(record);
    return record;
  }

  all(): readonly StepRecord[] {
    return [...this.records];
  }

  subscribe(listener: StepListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
