import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { onCleanup, onCleanupEndGroup } from "./cleanup";
import type { MemoryReport, MemorySampler } from "./memorySampler";
import { parseRecap, type HostRecap } from "./ansiblePlaybooks";

/**
 * ansible-playbook as the bench runs it: found on PATH (the bench installs nothing), each run in
 * a folder of its own with its inventory, its playbook and the folder of OpenSSH's control
 * sockets, timed from starting ansible-playbook to its exit while the sampler watches its process
 * tree and the ControlPersist masters its ssh processes leave behind.
 */

export const ansibleInstallHint = "apt-get install ansible-core sshpass";

export interface AnsibleTools {
  readonly playbook: string;
  readonly ssh: string;
  /** The first line of `ansible-playbook --version`, e.g. "ansible-playbook [core 2.14.18]". */
  readonly version: string;
}

export type AnsibleAvailability =
  | { readonly available: true; readonly tools: AnsibleTools }
  | { readonly available: false; readonly missing: readonly string[]; readonly install: string };

function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir === "") continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** ansible-playbook, sshpass (password authentication) and ssh, or what is missing of them. */
export function findAnsible(): AnsibleAvailability {
  const found = Object.fromEntries(["ansible-playbook", "sshpass", "ssh"].map((name) => [name, onPath(name)]));
  const missing = Object.entries(found)
    .filter(([, path]) => path === undefined)
    .map(([name]) => name);
  const playbook = found["ansible-playbook"];
  const ssh = found["ssh"];
  if (missing.length > 0 || playbook === undefined || ssh === undefined) {
    return { available: false, missing, install: ansibleInstallHint };
  }
  const version = spawnSync(playbook, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]?.trim() ?? "";
  return { available: true, tools: { playbook, ssh, version: version === "" ? "unknown" : version } };
}

export interface PlaybookRequest {
  readonly inventory: string;
  readonly playbook: string;
  readonly forks: number;
  /** Processes outside the tree whose CPU time is reported (the simulator). */
  readonly watch: Readonly<Record<string, number>>;
}

export interface PlaybookRun {
  readonly forks: number;
  /** From starting ansible-playbook to its exit. */
  readonly ms: number;
  readonly exitCode: number;
  readonly memory: MemoryReport;
  readonly recap: Readonly<Record<string, HostRecap>>;
  /** The end of ansible-playbook's output, to show when a run did not go as expected. */
  readonly outputTail: string;
}

/**
 * The environment of every run: no tty for the ssh commands (ANSIBLE_SSH_USETTY=False), the
 * control sockets in the run's folder, no colours, no retry files. Everything else is Ansible's
 * default: ssh with `-C -o ControlMaster=auto -o ControlPersist=60s`, password through sshpass.
 */
export const ansibleSettings: Readonly<Record<string, string>> = {
  ANSIBLE_SSH_USETTY: "False",
  ANSIBLE_NOCOLOR: "1",
  ANSIBLE_RETRY_FILES_ENABLED: "False",
};

/** The environment of a run whose files are in `dir` and control sockets in `controlDir`. */
export function ansibleEnvironment(dir: string, controlDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...ansibleSettings,
    ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    ANSIBLE_LOCAL_TEMP: join(dir, "tmp"),
  };
}

/** Ends the ControlPersist masters of a run (`ssh -O exit` on each socket), so none outlives it. */
export async function closeControlMasters(ssh: string, controlDir: string): Promise<void> {
  let sockets: string[];
  try {
    sockets = readdirSync(controlDir);
  } catch {
    return;
  }
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          const child = spawn(ssh, ["-O", "exit", "-o", `ControlPath=${join(controlDir, socket)}`, "mps-bench"], {
            stdio: "ignore",
          });
          child.once("error", () => resolve());
          child.once("exit", () => resolve());
        }),
    ),
  );
}

const tail = (text: string, chars = 4000): string => (text.length > chars ? `…${text.slice(-chars)}` : text);

export async function runPlaybook(
  tools: AnsibleTools,
  request: PlaybookRequest,
  sampler: MemorySampler,
): Promise<PlaybookRun> {
  const dir = mkdtempSync(join(tmpdir(), "mps-hotfix-bench-ansible-"));
  const controlDir = join(dir, "cp");
  mkdirSync(controlDir);
  const dispose = onCleanup(`ansible run in ${dir}`, async () => {
    await closeControlMasters(tools.ssh, controlDir);
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    writeFileSync(join(dir, "inventory.yml"), request.inventory);
    writeFileSync(join(dir, "playbook.yml"), request.playbook);
    const started = performance.now();
    // A process group of its own, so that an interrupted bench ends it with its workers.
    const child = spawn(tools.playbook, ["-i", "inventory.yml", "-f", String(request.forks), "playbook.yml"], {
      cwd: dir,
      env: ansibleEnvironment(dir, controlDir),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const stopChild = onCleanupEndGroup("ansible-playbook", child);
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const closed = new Promise<{ code: number; ms: number }>((resolve, reject) => {
      let ms = NaN;
      child.once("error", reject);
      child.once("exit", () => (ms = performance.now() - started));
      child.once("close", (code, signal) => resolve({ code: code ?? (signal === null ? -1 : 128), ms }));
    });
    try {
      const [{ code, ms }, memory] = await sampler.during(child.pid ?? -1, request.watch, () => closed, {
        commandLineMarker: controlDir,
        rootName: "ansible-playbook",
      });
      return {
        forks: request.forks,
        ms,
        exitCode: code,
        memory,
        recap: parseRecap(output),
        outputTail: tail(output),
      };
    } finally {
      await stopChild();
    }
  } finally {
    await dispose();
  }
}
