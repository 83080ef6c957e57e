import { FleetConfigError } from "../../components/config/fleetPlan";
import { planStack } from "../../cli/stackPlan";
import { cli } from "./operatorCli";
import { kbFile, requiredVersion, scenarioFor } from "./scenario";

/**
 * The one internal of the SDK the product still calls: the program asks runtime/config's
 * isConfigSecret whether `mps-hotfix:credentials` is stored as a secret (components/program.ts),
 * which no public entry point tells a program. A differential test: through the real engine, the
 * program's verdict on the stack (`mps-hotfix preview`, whose program checks the config as the
 * engine runs it) must be the one the Automation API's config (getAllConfig's `secret`, read by
 * planStack) gives, for a secret and for a plain value; it fails when an SDK upgrade changes what
 * the internal answers. The preview runs in its own process: a program that throws leaves its last
 * calls to the engine failing in the process that hosts it.
 */
describe("whether the credentials are a secret: the program and the Automation API agree", () => {
  const scenario = scenarioFor("secret-config", {
    engines: [{ name: "MPS01", files: { [kbFile]: requiredVersion } }],
  });

  const verdictOf = (error: unknown): string => {
    if (error instanceof FleetConfigError) return error.message;
    throw error;
  };

  it.each([
    ["a secret", true],
    ["a plain value", false],
  ])("credentials stored as %s", async (_kind, secret) => {
    const stack = await scenario().stack();
    await stack.setConfig("mps-hotfix:credentials", { value: JSON.stringify(scenario().credentials), secret });

    const preview = await cli("preview", "--stack", scenario().stackName);
    const byProgram = preview.code === 0 ? "accepted" : preview.stderr;
    const byAutomationApi = await planStack(stack).then(
      () => "accepted",
      (error: unknown) => `mps-hotfix: ${verdictOf(error)}\n`,
    );

    expect(byProgram).toBe(byAutomationApi);
    if (secret) expect(preview.code).toBe(0);
    else expect(preview.stderr).toContain("credentials: must be stored as a Pulumi secret");
  });
});
