import { readdirSync, readFileSync } from "node:fs";

/** One process as /proc shows it: its id, command name, resident set size and CPU time so far. */
export interface ProcessSample {
  readonly pid: number;
  readonly name: string;
  readonly rssBytes: number;
  readonly cpuTicks: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process or thread ended while it was being read
  }
}

/** The direct children of a process, from /proc/<pid>/task/<tid>/children of each of its threads. */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children = new Set<number>();
  for (const tid of tasks) {
    const text = readText(`/proc/${pid}/task/${tid}/children`) ?? "";
    for (const part of text.split(/\s+/)) if (part !== "") children.add(Number(part));
  }
  return [...children];
}

/** A process and every process below it, skipping the subtrees rooted at `exclude`. */
export function processTree(root: number, exclude: ReadonlySet<number> = new Set()): number[] {
  const seen: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    if (exclude.has(pid) || seen.includes(pid)) continue;
    seen.push(pid);
    pending.push(...childrenOf(pid));
  }
  return seen;
}

/**
 * Processes whose command line contains `marker`, with every process below them: the processes a
 * tool started that left its tree (OpenSSH's ControlPersist masters detach from the ssh that
 * started them). `notMatching` remembers the processes already read that did not match, so each
 * sample reads only the command lines of processes new since the last one.
 */
export function processesWithCommandLine(marker: string, notMatching: Set<number>): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const roots: number[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    if (notMatching.has(pid)) continue;
    const commandLine = readText(`/proc/${pid}/cmdline`);
    if (commandLine === undefined) continue;
    if (commandLine.includes(marker)) roots.push(pid);
    else notMatching.add(pid);
  }
  return roots;
}

/**
 * Proportional set size from /proc/<pid>/smaps_rollup: each shared page divided among the
 * processes that map it. Forked workers (Ansible's) share most of their pages, which a sum of RSS
 * counts once per process; PSS adds up to what the processes hold together.
 */
export function pssBytes(pid: number): number | undefined {
  const rollup = readText(`/proc/${pid}/smaps_rollup`);
  const pss = rollup === undefined ? undefined : /^Pss:\s*(\d+)\s*kB$/m.exec(rollup)?.[1];
  return pss === undefined ? undefined : Number(pss) * 1024;
}

/** Name and VmRSS of a process (kernel threads and ended processes give undefined). */
export function sampleProcess(pid: number): ProcessSample | undefined {
  const status = readText(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? "?";
  const rss = /^VmRSS:\s*(\d+)\s*kB$/m.exec(status)?.[1];
  if (rss === undefined) return undefined;
  return { pid, name, rssBytes: Number(rss) * 1024, cpuTicks: cpuTicks(pid) ?? 0 };
}

/** User plus system CPU time a process has used so far, in clock ticks (USER_HZ, 100 on Linux). */
function cpuTicks(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may contain spaces: fields after it start behind the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

export const ticksPerSecond = 100;
