import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { processRuns } from "../../components/provider/localProcess";

/** The children of a process, from /proc (Linux). */
function childrenOf(parent: number): number[] {
  return readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(join("/proc", entry, "stat"), "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return ppid === parent ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

describe("whether a process runs on this machine", () => {
  it("runs: this process", () => {
    expect(processRuns(process.pid)).toBe(true);
  });

  it("does not run: a process that ended and was reaped", () => {
    expect(processRuns(spawnSync(process.execPath, ["-e", ""]).pid)).toBe(false);
  });

  it("does not run: a zombie, which kill(pid, 0) still finds", async () => {
    // sh starts a child that ends at once, then becomes sleep, which never reaps it.
    const parent = spawn("sh", ["-c", "true & exec sleep 30"], { stdio: "ignore" });
    try {
      let zombie: number | undefined;
      for (let tries = 0; zombie === undefined && tries < 100; tries++) {
        zombie = childrenOf(parent.pid!).find((pid) => {
          const stat = readFileSync(join("/proc", String(pid), "stat"), "utf8");
          return stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z";
        });
        if (zombie === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(zombie).toBeDefined();
      expect(() => process.kill(zombie!, 0)).not.toThrow();
      expect(processRuns(zombie!)).toBe(false);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
