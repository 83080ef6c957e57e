import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import {
  BackendRefusal,
  checkCheckpoint,
  checkpointBytesPerEngine,
  checkpointMarginBytes,
  clearStaleLocks,
  localBackendDir,
  lockNotes,
  provedStale,
  spaceNeeded,
  stackLocks,
  type LocalStack,
} from "../../cli/backendState";

/** A pid that ran on this machine and has ended: a child that exited. */
function endedPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("the local backend's locks", () => {
  let at: LocalStack;
  let lockDir: string;

  beforeEach(() => {
    const backendDir = mkdtempSync(join(tmpdir(), "mps-hotfix-locks-"));
    at = { backendDir, project: "mps-hotfix", stack: "prod" };
    // Where the Pulumi CLI's DIY backend puts a project stack's locks (pkg/backend/diy/lock.go).
    lockDir = join(backendDir, ".pulumi", "locks", "organization", "mps-hotfix", "prod");
    mkdirSync(lockDir, { recursive: true });
  });
  afterEach(() => rmSync(at.backendDir, { recursive: true, force: true }));

  /** A lock file as the CLI writes it (lockContent: pid, username, hostname, timestamp). */
  function lock(id: string, pid: number, host = hostname()): string {
    const path = join(lockDir, `${id}.json`);
    writeFileSync(
      path,
      JSON.stringify({ pid, username: userInfo().username, hostname: host, timestamp: "2026-12-07T02:00:00Z" }),
    );
    return path;
  }

  it("removes a lock that names this machine and a pid that no longer runs, and says so", () => {
    const pid = endedPid();
    const path = lock("a1", pid);
    expect(provedStale(stackLocks(at)[0]!)).toBe(true);
    expect(lockNotes(at)).toEqual([
      `mps-hotfix: stack prod holds a lock left by a run that no longer exists: ${path} (taken by ${userInfo().username}@${hostname()}, pid ${pid}, at 2026-12-07T02:00:00Z); the next up removes it`,
    ]);
    expect(clearStaleLocks(at)).toEqual([
      `mps-hotfix: removed the lock of stack prod left by a run that no longer exists: ${path} (taken by ${userInfo().username}@${hostname()}, pid ${pid}, at 2026-12-07T02:00:00Z); pid ${pid} no longer runs on this machine`,
    ]);
    expect(existsSync(path)).toBe(false);
  });

  it("keeps a lock whose pid runs, or of another machine, and refuses naming the one command that clears it", () => {
    const running = lock("b2", process.pid);
    const otherPid = endedPid();
    const elsewhere = lock("c3", otherPid, "operator-laptop-7");
    expect(() => clearStaleLocks(at)).toThrow(BackendRefusal);
    let message = "";
    try {
      clearStaleLocks(at);
    } catch (error) {
      message = (error as Error).message;
    }
    const user = userInfo().username;
    expect(message).toBe(
      `stack prod is locked, so nothing was run on any host: ${running} (taken by ${user}@${hostname()}, pid ${process.pid}, at 2026-12-07T02:00:00Z); ` +
        `${elsewhere} (taken by ${user}@operator-laptop-7, pid ${otherPid}, at 2026-12-07T02:00:00Z). ` +
        `Another up, adopt, refresh or destroy of the stack may be running there; wait for it. If none is (its machine lost power, say), ` +
        `remove the lock, as \`pulumi cancel\` does for this backend: rm '${running}' '${elsewhere}'`,
    );
    expect([existsSync(running), existsSync(elsewhere)]).toEqual([true, true]);
  });

  it("reads where a file:// backend keeps state, and no other backend", () => {
    expect(localBackendDir("file:///var/lib/mps-hotfix/state")).toBe("/var/lib/mps-hotfix/state");
    expect(localBackendDir("file://~")).toBe(homedir());
    expect(localBackendDir("file://~/state")).toBe(join(homedir(), "state"));
    expect(localBackendDir("s3://bucket/state")).toBeUndefined();
    expect(localBackendDir(undefined)).toBeUndefined();
  });
});

describe("the checkpoint's room and readability", () => {
  let at: LocalStack;
  let checkpoint: string;

  beforeEach(() => {
    const backendDir = mkdtempSync(join(tmpdir(), "mps-hotfix-checkpoint-"));
    at = { backendDir, project: "mps-hotfix", stack: "prod" };
    mkdirSync(join(backendDir, ".pulumi", "stacks", "mps-hotfix"), { recursive: true });
    checkpoint = join(backendDir, ".pulumi", "stacks", "mps-hotfix", "prod.json");
  });
  afterEach(() => rmSync(at.backendDir, { recursive: true, force: true }));

  it("needs three copies of the larger of the checkpoint and its engines' estimate, and the margin", () => {
    expect(spaceNeeded(0, 2)).toBe(3 * 2 * checkpointBytesPerEngine + checkpointMarginBytes);
    expect(spaceNeeded(10 * checkpointBytesPerEngine, 2)).toBe(30 * checkpointBytesPerEngine + checkpointMarginBytes);
  });

  it("lets a readable checkpoint, or none, through", () => {
    expect(() => checkCheckpoint(at)).not.toThrow();
    writeFileSync(checkpoint, JSON.stringify({ version: 3, checkpoint: {} }));
    expect(() => checkCheckpoint(at)).not.toThrow();
  });

  it("says so where the damaged checkpoint has no backup, or an unreadable one", () => {
    writeFileSync(checkpoint, '{"version": 3, "checkpoint": {');
    const reason = (() => {
      try {
        JSON.parse('{"version": 3, "checkpoint": {');
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(() => checkCheckpoint(at)).toThrow(
      new BackendRefusal(
        `stack prod: its checkpoint ${checkpoint} cannot be loaded (${reason}), so nothing was run on any host. There is no backup beside it (\`.bak\`); the backend's history (.pulumi/history) may hold a recent one.`,
      ),
    );
    writeFileSync(`${checkpoint}.bak`, "");
    expect(() => checkCheckpoint(at)).toThrow(
      new BackendRefusal(
        `stack prod: its checkpoint ${checkpoint} cannot be loaded (${reason}), so nothing was run on any host. Its backup ${checkpoint}.bak cannot be read either; the backend's history (.pulumi/history) may hold a recent one.`,
      ),
    );
  });
});
