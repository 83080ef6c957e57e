import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * What the product checks of a local (file://) state backend before a command writes to it: a
 * lock left by a run that no longer exists. The layout is the Pulumi CLI's DIY backend (pkg/backend/diy in
 * pulumi/pulumi v3.276.0): a stack's checkpoint is `.pulumi/stacks/<project>/<stack>.json`
 * (`.pulumi/stacks/<stack>.json` in the layout before projects), each write first copies the
 * previous one to `<stack>.json.bak` (state.go, backupTarget), and a run that changes the stack
 * holds a lock, `.pulumi/locks/organization/<project>/<stack>/<id>.json`, naming the pid, user and
 * host of the CLI that took it (lock.go, lockContent), which it deletes when it ends.
 */

/** A stack's place in a local backend. */
export interface LocalStack {
  /** The backend's folder (PULUMI_BACKEND_URL's path). */
  readonly backendDir: string;
  readonly project: string;
  readonly stack: string;
}

/** Where PULUMI_BACKEND_URL keeps state on this machine, or undefined for any other backend. */
export function localBackendDir(backendUrl: string | undefined): string | undefined {
  if (backendUrl === undefined || !backendUrl.startsWith("file://")) return undefined;
  // The CLI reads `file://~` as the home folder (diy/backend.go, New).
  const rest = backendUrl.slice("file://".length);
  if (rest === "~" || rest.startsWith("~/")) return join(homedir(), rest.slice(1));
  return fileURLToPath(backendUrl);
}

const LockContent = z.object({
  pid: z.number().int(),
  username: z.string(),
  hostname: z.string(),
  timestamp: z.string(),
});
type LockContent = z.infer<typeof LockContent>;

/** A lock file of the stack and what it says (undefined where it cannot be read as a lock). */
export interface StackLock {
  readonly path: string;
  readonly content: LockContent | undefined;
}

/** The stack's lock files, in either layout. */
export function stackLocks(at: LocalStack): StackLock[] {
  const dirs = [
    join(at.backendDir, ".pulumi", "locks", "organization", at.project, at.stack),
    join(at.backendDir, ".pulumi", "locks", at.stack),
  ];
  return dirs.flatMap((dir) => {
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".json"))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((entry) => {
        const path = join(dir, entry.name);
        let content: LockContent | undefined;
        try {
          const parsed = LockContent.safeParse(JSON.parse(readFileSync(path, "utf8")));
          content = parsed.success ? parsed.data : undefined;
        } catch {
          content = undefined;
        }
        return { path, content };
      });
  });
}

/** Whether a process with this pid runs on this machine (kill(pid, 0): ESRCH when none does). */
function runs(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Whether a lock is proved stale: it names this machine and a pid that no longer runs here, so
 * no CLI holds it. A lock of another machine, or of a pid that runs (perhaps another up), is not.
 */
export function provedStale(lock: StackLock): boolean {
  return lock.content !== undefined && lock.content.hostname === hostname() && !runs(lock.content.pid);
}

function describeLock(lock: StackLock): string {
  const c = lock.content;
  return c === undefined
    ? lock.path
    : `${lock.path} (taken by ${c.username}@${c.hostname}, pid ${c.pid}, at ${c.timestamp})`;
}

/** A check that refuses the command before any host is contacted; the message says what to do. */
export class BackendRefusal extends Error {
  override readonly name = "BackendRefusal";
}

/**
 * Before a command that locks the stack (up, adopt, refresh, destroy): removes each lock proved
 * stale, and says so; refuses, naming the file and the one command that clears it, where a lock
 * may still be held. Returns the lines to print.
 */
export function clearStaleLocks(at: LocalStack): string[] {
  const said: string[] = [];
  const held: StackLock[] = [];
  for (const lock of stackLocks(at)) {
    if (provedStale(lock)) {
      rmSync(lock.path, { force: true });
      said.push(
        `mps-hotfix: removed the lock of stack ${at.stack} left by a run that no longer exists: ${describeLock(lock)}; pid ${lock.content?.pid} no longer runs on this machine`,
      );
    } else {
      held.push(lock);
    }
  }
  if (held.length > 0) {
    throw new BackendRefusal(
      `stack ${at.stack} is locked, so nothing was run on any host: ${held.map(describeLock).join("; ")}. ` +
        `Another up, adopt, refresh or destroy of the stack may be running there; wait for it. If none is (its machine lost power, say), ` +
        `remove the lock, as \`pulumi cancel\` does for this backend: rm ${held.map((lock) => `'${lock.path}'`).join(" ")}`,
    );
  }
  return said;
}

/** What a command that does not lock (preview, report) says of the stack's locks: which the next up removes, which may be held. */
export function lockNotes(at: LocalStack): string[] {
  return stackLocks(at).map((lock) =>
    provedStale(lock)
      ? `mps-hotfix: stack ${at.stack} holds a lock left by a run that no longer exists: ${describeLock(lock)}; the next up removes it`
      : `mps-hotfix: stack ${at.stack} is locked: ${describeLock(lock)}; an up of it may be running, and the next one is refused until the lock is gone`,
  );
}
