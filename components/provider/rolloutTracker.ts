import { minInRotationOf, windowClosesAt, type RolloutLimits } from "../domain/rollout";

/** An engine's pool as the stack lists it: its name and every engine of it. */
export interface PoolOf {
  readonly pool: string;
  readonly members: readonly string[];
}

/**
 * The rollout as a whole, as the provider of one `up` sees it: the engine runs every engine's
 * update in the one process serving the provider, so failures are counted here, and the change window is
 * measured from the moment the first maintenance of the run was asked for.
 */
export class RolloutTracker {
  private failed: string[] = [];
  private started: Date | undefined;
  /** Engines this run saw out of rotation (deactivated, COM+ stopped, unreachable, not responding, leased), or in it. */
  private readonly seen = new Map<string, "in" | "out">();
  /** Engines whose maintenance has started and not ended: out of rotation for the count. */
  private readonly underWay = new Set<string>();

  constructor(
    private readonly limits: () => RolloutLimits,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Why no maintenance may start now, or undefined when it may. */
  refusal(): string | undefined {
    const { window } = this.limits();
    this.started ??= this.now();
    if (window === undefined) return undefined;
    const closes = windowClosesAt(window, this.started);
    return this.now() >= closes
      ? `the change window closed at ${closes.toISOString()} (rollout.window); the engine's maintenance was not started`
      : undefined;
  }

  /** What a probe (the refresh's, or a maintenance's end) saw of an engine: in rotation and answering, or not. */
  observe(engine: string, inRotation: boolean): void {
    this.seen.set(engine, inRotation ? "in" : "out");
  }

  /**
   * Whether the engine's maintenance may start without leaving its pool short of
   * rollout.minInRotation; when it may, the engine counts as out until `ended`. Synchronous, so
   * that the engines of a batch, whose handlers run at once in this process, are counted one by one.
   * An engine this run has not seen counts as in: only what was seen out is counted out.
   */
  claim(engine: string, pool: PoolOf | undefined): string | undefined {
    if (pool !== undefined && this.seen.get(engine) !== "out") {
      const min = minInRotationOf(this.limits().minInRotation, pool.pool, pool.members.length);
      const others = pool.members.filter((m) => m !== engine);
      const out = others.filter((m) => this.underWay.has(m) || this.seen.get(m) === "out");
      const left = others.length - out.length;
      if (left < min) {
        return `its maintenance would leave ${left} engine(s) of pool ${pool.pool} active and answering, fewer than rollout.minInRotation (${min})${out.length > 0 ? `; out now: ${out.join(", ")}` : ""}; the engine's maintenance was not started`;
      }
    }
    this.underWay.add(engine);
    return undefined;
  }

  /** The engine's maintenance ended; `inRotation` is where it stands now, when known. */
  ended(engine: string, inRotation: boolean | undefined): void {
    this.underWay.delete(engine);
    if (inRotation !== undefined) this.observe(engine, inRotation);
  }

  /** Counts a failed engine; true when the rollout may go on past it (rollout.maxFailures). */
  recordFailure(engine: string): boolean {
    this.failed.push(engine);
    return this.failed.length <= this.limits().maxFailures;
  }

  /** The sentence that says why the rollout halts at this engine. */
  haltNotice(): string {
    const { maxFailures } = this.limits();
    return `the rollout halts: ${this.failed.length} engine(s) failed (${this.failed.join(", ")}), more than rollout.maxFailures (${maxFailures})`;
  }
}
