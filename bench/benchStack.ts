import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { openStack, withStack } from "../cli/workspace";
import { projectRoot } from "../cli/projectRoot";
import type { SimulatedHost } from "../simulator/server";
import { onCleanup } from "./cleanup";
import { credentialsConfig, fleetConfig } from "./fleets";

/**
 * A stack of the product for one simulated fleet, opened the way the CLI opens it (openStack:
 * the inline fleet program, the project directory, the pinned CLI). Its name starts with
 * `test-bench-`, so its config file under stacks/ is git-ignored while it exists; dispose()
 * (or the bench's cleanup, however the run ends) removes the stack and that file.
 */
export interface BenchStack {
  readonly name: string;
  /** The stack with the regular program, or the adopt program (registers, changes no host). */
  open(adoptOnly?: boolean): Promise<Stack>;
  /** Sets `mps-hotfix:fleet` and the secret `mps-hotfix:credentials` for the fleet. */
  configure(maxUnavailable: number): Promise<void>;
  dispose(): Promise<void>;
}

export function benchStack(
  name: string,
  hosts: readonly SimulatedHost[],
  env: Readonly<Record<string, string>>,
): BenchStack {
  const configFile = join(projectRoot, "stacks", `Pulumi.${name}.yaml`);
  const remove = onCleanup(`stack ${name}`, async () => {
    try {
      const stack = await openStack({ stackName: name, env });
      await stack.workspace.removeStack(name, { force: true });
    } finally {
      rmSync(configFile, { force: true });
    }
  });
  const open = (adoptOnly = false): Promise<Stack> => openStack({ stackName: name, adoptOnly, env });
  return {
    name,
    open,
    async configure(maxUnavailable) {
      const stack = await open();
      await withStack(stack, () =>
        stack.setAllConfig({
          "mps-hotfix:fleet": { value: JSON.stringify(fleetConfig(hosts, maxUnavailable)) },
          "mps-hotfix:credentials": { value: JSON.stringify(credentialsConfig(hosts)), secret: true },
        }),
      );
    },
    dispose: remove,
  };
}
