/**
 * Whether the run that started this provider host ran the program, and so configured the provider
 * from the stack's current config. "By default, pulumi refresh and pulumi destroy do not execute
 * your program. They operate on stack configuration and the resources already recorded in state"
 * (https://www.pulumi.com/docs/iac/operations/stack-management/run-program/): the dynamic provider
 * is then configured with the config stored at the last up, credentials included, and it cannot
 * tell that config from a current one. `PULUMI_RUN_PROGRAM` is the CLI's documented switch for the
 * same thing as `--run-program`, and the CLI hands its environment on to the provider hosts it
 * starts, so a host can read it; the flag alone it cannot see.
 */
export const runProgramVariable = "PULUMI_RUN_PROGRAM";

/** As the CLI reads a boolean variable: "1" or "true" in any case. */
export function programRan(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = env[runProgramVariable];
  return value === "1" || value?.toLowerCase() === "true";
}

/** Why a refresh of this engine was refused: it would have logged on with the credentials of the last up. */
export function staleConfigProblem(engine: string): string {
  return (
    `engine ${engine}: not refreshed: this run may not have run the program, so the provider holds the ` +
    `credentials stored at the last up rather than the stack's current mps-hotfix:credentials; ` +
    `run it with ${runProgramVariable}=true (the CLI's --run-program), or through mps-hotfix`
  );
}
