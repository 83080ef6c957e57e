import { LocalWorkspace, Stack, type PulumiFn } from "@pulumi/pulumi/automation";
import { engineEnvironment, pulumiCommand } from "../../cli/pulumiToolchain";
import { projectRoot } from "../../cli/projectRoot";
import { fleetProgram } from "../../components/program";
import { runProgramVariable, staleConfigProblem } from "../../components/provider/programRun";
import programOfIndex from "../../index";
import { e2eEnv, scriptsOn, startScenario, type Scenario } from "./scenario";

/**
 * The commands of docs/plain-pulumi.md, run as the plain CLI runs them: the program index.ts
 * exports, and the environment that page sets, without anything `mps-hotfix` adds. The Automation
 * API stands in for the Node language host, which this machine does not have; each operation takes
 * exactly the options of that page's command line.
 */

/**
 * index.ts as `pulumi` loads it: the program of this directory, adopting where MPS_HOTFIX_ADOPT=1
 * (index.ts reads it once, at load; the test runs without it, so adopting takes what index.ts
 * passes then).
 */
function indexProgram(adopt: boolean): PulumiFn {
  return adopt ? fleetProgram({ projectDir: projectRoot, adoptOnly: true }) : programOfIndex;
}

/** The stack as a plain CLI in the project directory sees it, with docs/plain-pulumi.md's variables or without PULUMI_RUN_PROGRAM. */
async function plainStack(scenario: Scenario, runProgram: boolean, adopt = false): Promise<Stack> {
  const env = engineEnvironment(scenario.stackName, e2eEnv);
  if (!runProgram) Reflect.deleteProperty(env, runProgramVariable);
  const workspace = await LocalWorkspace.create({
    workDir: projectRoot,
    program: indexProgram(adopt),
    pulumiCommand: await pulumiCommand(),
    envVars: env,
  });
  return Stack.select(scenario.stackName, workspace);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

describe("plain Pulumi, as docs/plain-pulumi.md gives it", () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario("plain", {
      engines: [
        { name: "MPS01", files: { "Mapsproccntl.dll": "13.3.600.0" } },
        { name: "MPS02", files: { "Mapsproccntl.dll": "13.3.1000.0" } },
      ],
    });
  });
  afterAll(async () => {
    await scenario.dispose();
  });

  test("adopt, preview --diff, up and refresh with PULUMI_RUN_PROGRAM=true converge the fleet", async () => {
    const adopted = await (await plainStack(scenario, true, true)).up();
    expect(adopted.summary.resourceChanges?.["create"]).toBeGreaterThan(0);
    expect(scriptsOn(scenario.sim, "MPS01")).not.toContain("install-package");

    const preview = await (await plainStack(scenario, true)).preview({ diff: true });
    expect(preview.stdout).toContain('"13.3.600.0" => "13.3.609.117"');

    const up = await (await plainStack(scenario, true)).up();
    expect(up.summary.result).toBe("succeeded");
    expect(scriptsOn(scenario.sim, "MPS01").filter((s) => s === "install-package")).toHaveLength(1);
    expect(scriptsOn(scenario.sim, "MPS02")).not.toContain("install-package");

    expect((await (await plainStack(scenario, true)).outputs())["compliantEngines"]?.value).toBe(2);
    // Someone puts an older file on MPS02 by hand: the refresh reads it, and the outputs follow.
    scenario.sim.alter("MPS02", { files: { "Mapsproccntl.dll": "13.3.500.2" } });
    const refresh = await (await plainStack(scenario, true)).refresh();
    expect(refresh.summary.result).toBe("succeeded");
    const outputs = await (await plainStack(scenario, true)).outputs();
    expect(outputs["compliantEngines"]?.value).toBe(1);
  });

  test("a refresh logs on with the stack's current credentials, not those of the last up", async () => {
    const wrong = Object.fromEntries(Object.keys(scenario.credentials).map((name) => [name, { password: "not-it" }]));
    const stack = await plainStack(scenario, true);
    await stack.setConfig("mps-hotfix:credentials", { value: JSON.stringify(wrong), secret: true });
    try {
      const refresh = await stack.refresh();
      expect(refresh.stdout + refresh.stderr).toContain("rejected the credentials of user mps-admin");
    } finally {
      await scenario.applyConfig();
    }
  });

  test("without PULUMI_RUN_PROGRAM, a refresh and a preview are refused with one message naming it, and log on nowhere", async () => {
    const connections = scenario.sim.connectionCount();
    const refused = await (await plainStack(scenario, false)).refresh().then(
      () => "refresh succeeded",
      (error: unknown) => messageOf(error),
    );
    expect(refused).toContain(staleConfigProblem("MPS01"));
    expect(refused).toContain(staleConfigProblem("MPS02"));

    // Pulumi.yaml's `refresh: always` makes a preview refresh first, from the config of the last up too.
    const preview = await (await plainStack(scenario, false)).preview().then(
      () => "preview succeeded",
      (error: unknown) => messageOf(error),
    );
    expect(preview).toContain(`${runProgramVariable}=true`);
    expect(scenario.sim.connectionCount()).toBe(connections);
  });
});
