import type { ChildProcess } from "node:child_process";

/**
 * What the bench must undo however it ends: simulators, stacks, temporary folders, stack config
 * files. Steps run last-registered first; each runs once, and a failing step does not stop the
 * others. Ctrl-C and SIGTERM run them too before the process exits.
 */
type Step = { readonly label: string; readonly run: () => Promise<void> | void };

const steps: Step[] = [];
let running: Promise<void> | undefined;

/** Registers a cleanup step; the function returned runs it now (once) and forgets it. */
export function onCleanup(label: string, run: () => Promise<void> | void): () => Promise<void> {
  const step = { label, run };
  steps.push(step);
  return async () => {
    const index = steps.indexOf(step);
    if (index < 0) return;
    steps.splice(index, 1);
    await run();
  };
}

/**
 * Registers ending a child started with `detached: true` (a process group of its own) with the
 * processes it started, if it still runs; the function returned does it now.
 */
export function onCleanupEndGroup(label: string, child: ChildProcess): () => Promise<void> {
  return onCleanup(label, () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // the group is gone already
      }
    }
  });
}

export function cleanUpAll(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      const step = steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup: ${step.label}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return running;
}

/**
 * The handlers stay installed (a second signal waits for the same cleanup): the Automation API's
 * child-process library re-raises a signal when no other listener is left, which would end the
 * bench before its cleanup finished.
 */
export function cleanUpOnSignals(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (running === undefined) console.error(`\n${signal}: cleaning up`);
      void cleanUpAll().finally(() => process.exit(130));
    });
  }
}
