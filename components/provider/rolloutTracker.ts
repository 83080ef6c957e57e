import { windowClosesAt, type RolloutLimits } from "../domain/rollout";

/**
 * The rollout as a whole, as the provider of one `up` sees it: the engine runs every engine's
 * update in the one process serving the provider, so failures are counted here, and the change window is
 * measured from the moment the first maintenance of the run was asked for.
 */
export class RolloutTracker {
  private failed: string[] = [];
  private started: Date | undefined;

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
