import { spawn } from "node:child_process";
import { join } from "node:path";
import { DriftReport } from "../../cli/driftReport";
import { projectRoot } from "../../cli/projectRoot";
import { e2eEnv, kbFile, requiredVersion, simulatorPassword, scenarioFor } from "./scenario";

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI as an operator would; asynchronously, since the simulated fleet lives in this process. */
function mpsHotfix(...args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [join(projectRoot, "dist", "cli", "main.js"), ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...e2eEnv },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

describe("the mps-hotfix command line", () => {
  const scenario = scenarioFor("cli", {
    engines: [
      { name: "MPS01", files: { [kbFile]: "13.3.600.0" } },
      { name: "MPS02", files: { [kbFile]: "13.3.1000.0" } },
    ],
  });

  it("refuses a missing --stack, an unknown option, an unknown command, an unknown format and a stack the backend does not hold with exit code 2", async () => {
    expect(await mpsHotfix("preview")).toMatchObject({ status: 2, stderr: "mps-hotfix: --stack is required\n" });
    const unknownOption = await mpsHotfix("refresh", "--stack", "x", "--frobnicate");
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.stderr).toMatch(/^mps-hotfix: Unknown option '--frobnicate'/);
    expect(await mpsHotfix("preview", "--stack")).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^mps-hotfix: Option '-s, --stack <value>' argument missing/) as unknown,
    });
    const unknown = await mpsHotfix("patch", "--stack", "x");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("mps-hotfix: unknown command patch");
    expect(await mpsHotfix("report", "--stack", "x", "--format", "csv")).toMatchObject({
      status: 2,
      stderr: "mps-hotfix: --format must be markdown or json, not csv\n",
    });
    for (const command of ["refresh", "destroy"]) {
      expect(await mpsHotfix(command, "--stack", "never-created")).toMatchObject({
        status: 2,
        stderr: "mps-hotfix: the backend holds no stack never-created yet; adopt, preview or up creates it\n",
      });
    }
  });

  it("adopts, then reports drift as markdown and as JSON, on stdout alone", async () => {
    expect((await mpsHotfix("adopt", "--stack", scenario().stackName)).status).toBe(0);
    const markdown = await mpsHotfix("report", "--stack", scenario().stackName);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout).toBe(
      [
        `### mps-hotfix drift report: stack \`${scenario().stackName}\``,
        "",
        "**1 of 2 engines need KB952089.**",
        "",
        "| Engine | Hotfix | File | Deployed | Required | Engine state | COM+ | `up` will |",
        "|---|---|---|---|---|---|---|---|",
        `| MPS01 | KB952089 | ${kbFile} | 13.3.600.0 ⚠ | ${requiredVersion} | active | running | run the runbook |`,
        `| MPS02 | KB952089 | ${kbFile} | 13.3.1000.0 | ${requiredVersion} | active | running | nothing (compliant) |`,
        "",
      ].join("\n"),
    );
    const json = await mpsHotfix("report", "--stack", scenario().stackName, "--format", "json");
    const report = DriftReport.parse(JSON.parse(json.stdout));
    expect(report.summary).toEqual({ KB952089: { needWork: 1, engines: 2 } });
    expect(report.engines.map((e) => [e.engine, e.action])).toEqual([
      ["MPS01", "runbook"],
      ["MPS02", "none"],
    ]);
  });

  it("script prints the very probe a preview sends to the engine, without a credential, and refuses an unknown engine or step", async () => {
    const sent: string[] = [];
    const unsubscribe = scenario().sim.onActivity((activity) => {
      if (activity.kind === "script-started" && activity.host === "MPS01" && activity.script === "probe") {
        sent.push(activity.received);
      }
    });
    try {
      expect((await mpsHotfix("preview", "--stack", scenario().stackName)).status).toBe(0);
    } finally {
      unsubscribe();
    }
    const printed = await mpsHotfix("script", "probe", "--stack", scenario().stackName, "--engine", "MPS01");
    expect(printed.status).toBe(0);
    expect(sent.length).toBeGreaterThan(0);
    expect(printed.stdout).toBe(sent[0]);
    expect(printed.stdout + printed.stderr).not.toContain(simulatorPassword);

    const engine = await mpsHotfix("script", "probe", "--stack", scenario().stackName, "--engine", "MPS09");
    expect(engine).toMatchObject({
      status: 2,
      stdout: "",
      stderr: `mps-hotfix: stack ${scenario().stackName}: --engine MPS09: no such engine; the stack's engines are: MPS01, MPS02\n`,
    });
    const step = await mpsHotfix("script", "format-disk", "--stack", scenario().stackName, "--engine", "MPS01");
    expect(step.status).toBe(2);
    expect(step.stderr).toContain("mps-hotfix: format-disk is not a step with a script; the steps are: probe,");
    expect((await mpsHotfix("preview", "--stack", scenario().stackName, "--engine", "MPS01")).status).toBe(2);
  });

  it("converges with up, prints the end summary, and exits 0", async () => {
    const up = await mpsHotfix("up", "--stack", scenario().stackName);
    expect(up.status).toBe(0);
    expect(up.stdout).toContain(
      [
        "Rollout summary:",
        "  1 patched (MPS01)",
        "  1 already compliant (MPS02)",
        "  0 failed",
        "  0 skipped: the rollout halted before them",
      ].join("\n"),
    );
    expect(up.stdout + up.stderr).not.toContain(simulatorPassword);
    const preview = await mpsHotfix("preview", "--stack", scenario().stackName);
    expect(preview.status).toBe(0);
    expect(preview.stdout).toMatch(/Resources:\n\s+7 unchanged/);
  });

  it("refuses bad input with one message and exit 2, contacting no host, in a preview, a report and an up", async () => {
    const stack = await scenario().stack();
    const rollout = scenario().fleetConfig["rollout"] as Record<string, unknown>;
    const invalid = { ...scenario().fleetConfig, rollout: { ...rollout, maxUnavailable: 0 } };
    await stack.setConfig("mps-hotfix:fleet", { value: JSON.stringify(invalid) });
    try {
      for (const command of [["preview"], ["report", "--format", "json"], ["up"]]) {
        const contacts = scenario().sim.log().length;
        const refused = await mpsHotfix(...command, "--stack", scenario().stackName);
        expect({ command: command[0], status: refused.status, stdout: refused.stdout }).toEqual({
          command: command[0],
          status: 2,
          stdout: "",
        });
        expect(refused.stderr).toMatch(
          new RegExp(
            `^mps-hotfix: stack ${scenario().stackName}: the fleet configuration is invalid; nothing was run on any host:\n  - rollout\.maxUnavailable: .+\n$`,
          ),
        );
        expect(scenario().sim.log().length).toBe(contacts);
      }
    } finally {
      await stack.setConfig("mps-hotfix:fleet", { value: JSON.stringify(scenario().fleetConfig) });
    }
  });
});
