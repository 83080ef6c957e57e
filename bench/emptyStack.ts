import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { engineEnvironment, pulumiCommand } from "../cli/pulumiToolchain";
import { onCleanup } from "./cleanup";

/**
 * A stack with no resources at all, in a project of its own: what any preview costs on this
 * machine before the first engine (CLI start, backend and secrets setup, the inline program's
 * language host, an empty program, the snapshot).
 */
const emptyProjectName = "mps-hotfix-bench-empty";

/** Selects (or creates) the empty stack in `workDir`, which holds the project's Pulumi.yaml. */
export async function selectEmptyStack(
  stackName: string,
  workDir: string,
  env: Readonly<Record<string, string>>,
): Promise<Stack> {
  // Opened as the product opens its stacks (openStack), so both pay the same start.
  const workspace = await LocalWorkspace.create({
    workDir,
    program: async () => Promise.resolve({}),
    pulumiCommand: await pulumiCommand(),
    envVars: engineEnvironment(stackName, env),
  });
  return Stack.createOrSelect(stackName, workspace);
}

/** A temporary project folder for the empty stack; removing it also removes the stack. */
export async function createEmptyStack(
  stackName: string,
  env: Readonly<Record<string, string>>,
): Promise<{ readonly workDir: string; dispose(): Promise<void> }> {
  const workDir = mkdtempSync(join(tmpdir(), "mps-hotfix-bench-empty-"));
  const dispose = onCleanup(`stack ${stackName}`, async () => {
    try {
      await (await selectEmptyStack(stackName, workDir, env)).workspace.removeStack(stackName, { force: true });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
  writeFileSync(
    join(workDir, "Pulumi.yaml"),
    `name: ${emptyProjectName}\nruntime: nodejs\ndescription: the bench fixed cost, a stack without resources\n`,
  );
  await selectEmptyStack(stackName, workDir, env);
  return { workDir, dispose };
}
