import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { runProgramVariable } from "../components/provider/programRun";
import { projectRoot } from "./projectRoot";

/** The pinned Pulumi CLI, and the environment every engine run of the product gets. */

/** The passphrase of the demo stack's secrets; the demo's simulated hosts guard nothing real. */
export const demoPassphrase = "mps-hotfix-demo";

let toolchainDir: string | undefined;

/** The folder of the pinned CLI: scripts/toolchain.sh decides, and builds it when needed. */
export function ensureToolchain(): string {
  toolchainDir ??= execFileSync("bash", [join(projectRoot, "scripts", "toolchain.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return toolchainDir;
}

let command: Promise<PulumiCommand> | undefined;

/**
 * The Automation API's handle on that CLI, one per process: PulumiCommand.get runs `pulumi
 * version` to check it, which need not be asked again. The toolchain prints the folder holding
 * the CLI; `root` is the folder above `bin/pulumi`
 * (https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/pulumi/automation/classes/PulumiCommand.html).
 */
export function pulumiCommand(): Promise<PulumiCommand> {
  const binDir = ensureToolchain();
  // A CLI on PATH outside a `bin` folder is the one `pulumi` names there (engineEnvironment's PATH too).
  command ??= PulumiCommand.get(basename(binDir) === "bin" ? { root: dirname(binDir) } : {});
  return command;
}

/**
 * The environment every engine run gets: a local state backend inside the project unless
 * PULUMI_BACKEND_URL says otherwise, no calls out, and the toolchain and the dynamic-provider
 * host on PATH.
 */
export function engineEnvironment(
  stackName: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const binDir = ensureToolchain();
  const localState = join(projectRoot, ".pulumi-state");
  // The file backend expects its folder to exist; a fresh clone has none yet.
  if (process.env["PULUMI_BACKEND_URL"] === undefined && extra["PULUMI_BACKEND_URL"] === undefined) {
    mkdirSync(localState, { recursive: true });
  }
  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: process.env["PULUMI_BACKEND_URL"] ?? `file://${localState}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // Every command runs the program (runProgram), and the provider host refuses a refresh that may not have.
    [runProgramVariable]: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
    PATH: [join(projectRoot, ".tools", "bin"), binDir, process.env["PATH"] ?? ""].join(":"),
    ...extra,
  };
  const hasPassphrase =
    process.env["PULUMI_CONFIG_PASSPHRASE"] !== undefined || process.env["PULUMI_CONFIG_PASSPHRASE_FILE"] !== undefined;
  if (!hasPassphrase && stackName === "demo" && extra["PULUMI_CONFIG_PASSPHRASE"] === undefined) {
    env["PULUMI_CONFIG_PASSPHRASE"] = demoPassphrase;
  }
  return env;
}
