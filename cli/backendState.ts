import { existsSync, readdirSync, readFileSync, rmSync, statSync, statfsSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { processRuns } from "../components/provider/localProcess";

/**
 * What the product checks of a local (file://) state backend before a command writes to it: a
 * lock left by a run that no longer exists, the room the checkpoint needs, and a checkpoint that
 * can no longer be read. The layout is the Pulumi CLI's DIY backend (pkg/backend/diy in
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

/** The stack's checkpoint file as the backend writes it (plain JSON), in either layout, if it has one. */
export function checkpointPath(at: LocalStack): string | undefined {
  const candidates = [
    join(at.backendDir, ".pulumi", "stacks", at.project, `${at.stack}.json`),
    join(at.backendDir, ".pulumi", "stacks", `${at.stack}.json`),
  ];
  return candidates.find((path) => existsSync(path));
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

/**
 * Whether a lock is proved stale: it names this machine and a pid that no longer runs here, so
 * no CLI holds it. A lock of another machine, or of a pid that runs (perhaps another up), is not.
 */
export function provedStale(lock: StackLock): boolean {
  return lock.content !== undefined && lock.content.hostname === hostname() && !processRuns(lock.content.pid);
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

/** The room an up leaves the checkpoint, beyond what it needs: a checkpoint grows as an up records its engines. */
export const checkpointMarginBytes = 1024 * 1024;
/** A generous size of one engine's resources in a checkpoint (its EngineServer and EngineHotfixes, with their inputs and outputs). */
export const checkpointBytesPerEngine = 16 * 1024;

/**
 * The free space an up needs under the backend: each checkpoint write leaves the new file beside
 * the `.bak` copy of the previous one, and the backend keeps a copy of each update's checkpoint
 * in its history (`.pulumi/history`): three copies of the largest the checkpoint will be, plus
 * a margin.
 */
export function spaceNeeded(currentCheckpointBytes: number, engines: number): number {
  return 3 * Math.max(currentCheckpointBytes, engines * checkpointBytesPerEngine) + checkpointMarginBytes;
}

const kib = (bytes: number): string => `${Math.ceil(bytes / 1024)} KiB`;

/**
 * Refuses an up where the backend's file system has less room than the checkpoint needs: a full
 * disk leaves the checkpoint truncated, and every later command unable to load it. The room is
 * what an unprivileged writer may use: Node's fs.statfs documents `bavail` as the free blocks
 * available to unprivileged users, to be multiplied by `bsize` (statfs(2)'s f_bavail, as `df` shows it).
 */
export function checkSpace(at: LocalStack, engines: number): void {
  const checkpoint = checkpointPath(at);
  const current = checkpoint === undefined ? 0 : statSync(checkpoint).size;
  const needed = spaceNeeded(current, engines);
  const fs = statfsSync(at.backendDir);
  const free = fs.bavail * fs.bsize;
  if (free < needed) {
    throw new BackendRefusal(
      `stack ${at.stack}: the state backend ${at.backendDir} has ${kib(free)} free; an up of ${engines} engine(s) needs ${kib(needed)} ` +
        `(three copies of the checkpoint as it writes it, its backup and its history, and a margin), so nothing was run on any host. ` +
        `A full disk would leave the checkpoint truncated. Free some space there, or set PULUMI_BACKEND_URL to a backend with room.`,
    );
  }
}

/** Why a checkpoint file cannot be read as JSON, or undefined when it can. */
function unreadable(path: string): string | undefined {
  try {
    JSON.parse(readFileSync(path, "utf8"));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Refuses any command on a stack whose checkpoint cannot be read (a full disk, an interrupted
 * copy), naming the file, the backup the backend keeps beside it and the command that restores it.
 */
export function checkCheckpoint(at: LocalStack): void {
  const path = checkpointPath(at);
  if (path === undefined) return;
  const why = unreadable(path);
  if (why === undefined) return;
  const backup = `${path}.bak`;
  const backupState = !existsSync(backup)
    ? "There is no backup beside it (`.bak`); the backend's history (.pulumi/history) may hold a recent one."
    : unreadable(backup) !== undefined
      ? `Its backup ${backup} cannot be read either; the backend's history (.pulumi/history) may hold a recent one.`
      : `The backend keeps the previous checkpoint as ${backup} (written ${statSync(backup).mtime.toISOString()}); restore it with: cp '${backup}' '${path}' ` +
        `(then run preview: it reads every engine afresh, and the next up records what the restored checkpoint does not).`;
  throw new BackendRefusal(
    `stack ${at.stack}: its checkpoint ${path} cannot be loaded (${why}), so nothing was run on any host. ${backupState}`,
  );
}

/** What a command that does not lock (preview, report) says of the stack's locks: which the next up removes, which may be held. */
export function lockNotes(at: LocalStack): string[] {
  return stackLocks(at).map((lock) =>
    provedStale(lock)
      ? `mps-hotfix: stack ${at.stack} holds a lock left by a run that no longer exists: ${describeLock(lock)}; the next up removes it`
      : `mps-hotfix: stack ${at.stack} is locked: ${describeLock(lock)}; an up of it may be running, and the next one is refused until the lock is gone`,
  );
}
