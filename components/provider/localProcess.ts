import { readFileSync } from "node:fs";

/**
 * Whether a process with this pid runs on this machine. Node documents signal 0 as the test of a
 * process's existence (https://nodejs.org/api/process.html#processkillpid-signal); kill(2) answers
 * ESRCH for no such process and EPERM for one the caller may not signal, which therefore runs. A
 * zombie exists to kill(2) too: it has ended, and only waits for its parent to reap it, which an
 * orphan's new parent may be slow to do; on Linux /proc/<pid>/stat shows it with state Z
 * (proc(5)). Where /proc cannot tell, the process is taken to run.
 */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state …: comm may hold spaces and parentheses, so read after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}
