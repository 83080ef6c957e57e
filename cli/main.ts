#!/usr/bin/env node
import "./compileCache";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { StackNotFoundError, type EngineEvent, type OutputMap, type Stack } from "@pulumi/pulumi/automation";
import { FleetConfigError } from "../components/config/fleetPlan";
import { HotfixEntry, HotfixId } from "../components/domain/catalog";
import { MsiPackageError, readMsiPackageFile, type MsiPackage } from "../components/package/msiPackage";
import { buildDriftReport, renderMarkdown } from "./driftReport";
import {
  engineOf,
  failureLines,
  hotfixSteps,
  notRespondingOf,
  outOfRotationOf,
  recordedEngines,
  unreachableReason,
} from "./hotfixSteps";
import { draftCatalogEntry, draftNotice, renderPackage } from "./packageInspect";
import { renderRolloutSummary, summarizeRollout, type RolloutSummary } from "./rolloutSummary";
import { checkedPreview, programVerdict } from "./checkedPreview";
import { Interrupts, runbooksUnderWay } from "./interrupts";
import {
  BackendRefusal,
  checkCheckpoint,
  checkSpace,
  clearStaleLocks,
  localBackendDir,
  lockNotes,
  type LocalStack,
} from "./backendState";
import { beforeUp, planStack } from "./stackPlan";
import { openStack, upFleet } from "./workspace";
import { stepScriptFor, StepScriptRequestError, type StepScriptRequest } from "./stepScript";
import { RunId } from "../components/domain/lease";
import { recoverRunEnv, stackEnv } from "../components/provider/leaseHolder";

const usage = `usage: mps-hotfix <command> --stack <name> [--format markdown|json]
       mps-hotfix package inspect <file.msi> [--catalog-entry <KB id>]
       mps-hotfix script <step> --stack <name> --engine <name> [--hotfix <KB id>]

commands:
  preview   refresh from the hosts, then show every engine whose files are older than required
  up        refresh, then run the KB runbook on every engine that needs it, one batch at a time
  adopt     register what each engine has now without changing any host (taking over a fleet)
  report    preview (changes nothing) and print a drift report for code review
  refresh   read every engine's live state into the stack
  destroy   stop managing the stack's engines (no hotfix is uninstalled)
  package inspect   print a Windows Installer package's product and File table; with
                    --catalog-entry, a draft catalog entry (JSON) for that hotfix id
  script    print the exact PowerShell script a step sends to one engine of the stack (its
            parameters filled in; no credentials, no package), to try it by hand first

options:
  --stack, -s <name>        the stack (stacks/Pulumi.<name>.yaml)
  --format <format>         report only: markdown (default) or json
  --catalog-entry <KB id>   package inspect only: print a draft catalog entry
  --recover-run <run id>    up only: that run ended; recover the engines its maintenance lease holds
                            (repeatable; docs/operator-guide.md: The maintenance lease)
  --engine <name>           script only: the engine the script is for
  --hotfix <KB id>          script only: the hotfix of a package step (default: the engine's first)
  --help, -h`;

const commands = ["preview", "up", "adopt", "report", "refresh", "destroy"] as const;
type Command = (typeof commands)[number];

interface Invocation {
  readonly command: Command;
  readonly stackName: string;
  readonly format: "markdown" | "json";
  readonly recoverRuns: readonly string[];
}

interface StepScriptPrint {
  readonly command: "script";
  readonly stackName: string;
  readonly request: StepScriptRequest;
}

interface PackageInspection {
  readonly command: "package-inspect";
  readonly path: string;
  readonly catalogEntry?: string;
}

/** Prints one step's script for one engine, from the stack's checked plan; touches no host. */
async function printStepScript({ stackName, request }: StepScriptPrint): Promise<number> {
  const plan = await planStack(await openStack({ stackName }));
  let script;
  try {
    script = stepScriptFor(plan, request, new Date());
  } catch (error) {
    if (!(error instanceof StepScriptRequestError)) throw error;
    printError(`mps-hotfix: ${error.message}\n`);
    return 2;
  }
  print(script.text);
  for (const note of script.notes) printError(`mps-hotfix: ${note}\n`);
  return 0;
}

/** Reads a package on this machine; touches no stack and no host. */
function inspectPackage(inspection: PackageInspection): number {
  let pkg: MsiPackage;
  try {
    pkg = readMsiPackageFile(inspection.path);
  } catch (error) {
    if (!(error instanceof MsiPackageError)) throw error;
    printError(`mps-hotfix: ${inspection.path} ${error.message}\n`);
    return 1;
  }
  if (inspection.catalogEntry === undefined) {
    print(renderPackage(inspection.path, pkg));
    return 0;
  }
  const id = HotfixId.safeParse(inspection.catalogEntry);
  if (!id.success) {
    printError(`mps-hotfix: --catalog-entry ${inspection.catalogEntry}: must look like KB952089\n`);
    return 2;
  }
  const entry = HotfixEntry.parse(draftCatalogEntry(id.data, basename(inspection.path), pkg));
  print(`${JSON.stringify(entry, null, 2)}\n`);
  printError(draftNotice(id.data));
  return 0;
}

const print = (text: string): void => void process.stdout.write(text);
const printError = (text: string): void => void process.stderr.write(text);

/** Exit status of a preview or report that could not read every engine: the picture is incomplete. */
export const incompleteExitCode = 3;
/** Exit status of a preview or report that read every engine and found one showing KB952089's symptom. */
export const notRespondingExitCode = 4;
/** Exit status of a preview or report that found an engine out of rotation (deactivated, or its COM+ application stopped). */
export const outOfRotationExitCode = 5;

/** Says what a preview could not see or found wrong beyond drift; returns its exit status (0, 3, 4 or 5). */
function pictureStatus(events: readonly EngineEvent[]): number {
  const steps = hotfixSteps(events);
  const outOfRotation = steps.flatMap((step) => {
    const reasons = outOfRotationOf(step);
    return reasons.length === 0 ? [] : [`${engineOf(step)}: ${reasons.join("; ")}`];
  });
  if (outOfRotation.length > 0) {
    printError(
      `mps-hotfix: ${outOfRotation.length} engine(s) OUT OF ROTATION: MPS clients' requests do not reach them; up puts each back into rotation (and patches it where it needs the hotfix):\n${outOfRotation.map((e) => `  ${e}`).join("\n")}\n`,
    );
  }
  const unreachable = steps.flatMap((step) => {
    const reason = unreachableReason(step);
    return reason === undefined ? [] : [`${engineOf(step)}: ${reason}`];
  });
  const notResponding = steps
    .filter(notRespondingOf)
    .map(engineOf)
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (notResponding.length > 0) {
    printError(
      `mps-hotfix: ${notResponding.length} engine(s) NOT RESPONDING: the COM+ component does not answer (KB952089's symptom); each server needs a restart, which mps-hotfix never does, and up leaves them untouched:\n${notResponding.map((e) => `  ${e}`).join("\n")}\n`,
    );
  }
  if (unreachable.length > 0) {
    printError(
      `mps-hotfix: ${unreachable.length} engine(s) could not be reached; the picture is incomplete (exit ${incompleteExitCode}):\n${unreachable.map((u) => `  ${u}`).join("\n")}\n`,
    );
    return incompleteExitCode;
  }
  if (outOfRotation.length > 0) return outOfRotationExitCode;
  return notResponding.length > 0 ? notRespondingExitCode : 0;
}

/**
 * After an up that did not run to completion, the engine keeps the stack's outputs as the last
 * complete run left them, but its display lists them as deleted (pulumi/pulumi#15755): say what
 * the stack really holds.
 */
async function sayOutputsKept(stack: Stack): Promise<void> {
  let outputs: OutputMap;
  try {
    outputs = await stack.outputs();
  } catch {
    return;
  }
  const compliant = outputs["compliantEngines"]?.value as unknown;
  const total = outputs["totalEngines"]?.value as unknown;
  if (typeof compliant !== "number" || typeof total !== "number") return;
  printError(
    `mps-hotfix: the stack's outputs are kept as the last complete run left them (${compliant} of ${total} engines compliant then); the "Outputs" the engine lists above as deleted are not (pulumi/pulumi#15755). The next complete up brings them up to date.\n`,
  );
}

/** What the stack last recorded of each engine; empty where its state cannot be read. */
async function recordedOf(stack: Stack): Promise<Map<string, Record<string, unknown>>> {
  try {
    return recordedEngines((await stack.exportStack()).deployment);
  } catch {
    return new Map();
  }
}

/** Whether every engine of a preview is a create: the stack manages none of them yet. */
function createsOnly(events: readonly EngineEvent[]): boolean {
  const steps = hotfixSteps(events);
  return steps.length > 0 && steps.every((step) => step.op === "create");
}

/**
 * Runs one command; the engine's own output streams as it goes. Throws when the engine fails;
 * otherwise returns the exit status (0; for a preview or report, 3 when it could not read every
 * engine, else 4 when an engine does not respond). Bad input is refused before any host is
 * contacted: an up or adopt checks the stack's config before the engine starts, a preview or
 * report by the program as the engine starts it (checkedPreview.ts).
 */
export async function run(invocation: Invocation): Promise<number> {
  const verdict = programVerdict();
  const recordedOnly = invocation.command === "refresh" || invocation.command === "destroy";
  const events: EngineEvent[] = [];
  running = () => ({ stackName: invocation.stackName, underWay: runbooksUnderWay(events) });
  let stack: Stack;
  try {
    stack = await openStack({
      stackName: invocation.stackName,
      adoptOnly: invocation.command === "adopt",
      ...(recordedOnly ? { create: false } : {}),
      ...verdict.hooks,
    });
  } catch (error) {
    if (recordedOnly && error instanceof StackNotFoundError) return noRecordedStack(invocation.stackName);
    throw error;
  }
  const local = await localStackOf(stack);
  if (local !== undefined) {
    // A checkpoint that cannot be loaded fails every command; say which file and how to restore it.
    checkCheckpoint(local);
    const locks = invocation.command === "preview" || invocation.command === "report" ? lockNotes : clearStaleLocks;
    for (const line of locks(local)) printError(`${line}\n`);
  }
  const adoptFirst = (): void =>
    printError(
      `mps-hotfix: stack ${invocation.stackName} manages no engine yet, so every engine shows as a create. ` +
        `To see drift first, run \`mps-hotfix adopt --stack ${invocation.stackName}\`: it records what each engine has and changes no host.\n`,
    );
  const common = { onOutput: print, color: "auto" as const, onEvent: (e: EngineEvent) => events.push(e) };
  switch (invocation.command) {
    case "preview":
      // A preview's own steps say whether the stack manages engines, which saves reading the state first.
      await checkedPreview(stack, verdict, { ...common, diff: true });
      if (createsOnly(events)) adoptFirst();
      return pictureStatus(events);
    case "report": {
      // The report is the only thing on stdout, so it can be piped or posted as it is; the
      // handlers' lines (connect retries, unreachable engines), which the engine shows from the
      // provider host's stderr as info diagnostics, go to stderr.
      const onEvent = (e: EngineEvent): void => {
        events.push(e);
        const severity = e.diagnosticEvent?.severity;
        // The host's stderr arrives as "info#err" (plugin.go streams it with Diag.Infoerrf).
        const line = severity === "info" || severity === "info#err" ? e.diagnosticEvent?.message : undefined;
        if (line !== undefined) printError(line.endsWith("\n") ? line : `${line}\n`);
      };
      await checkedPreview(stack, verdict, { ...common, onOutput: () => undefined, onEvent });
      if (createsOnly(events)) adoptFirst();
      const report = buildDriftReport(invocation.stackName, hotfixSteps(events));
      print(invocation.format === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report));
      return pictureStatus(events);
    }
    case "adopt": {
      const { plan } = await beforeUp(stack, true);
      if (local !== undefined) checkSpace(local, plan.engines.length);
      await upFleet(stack, common, plan);
      return 0;
    }
    case "up": {
      // An up is told before it starts that the stack manages no engine yet.
      const { plan, managesEngines } = await beforeUp(stack, false);
      if (local !== undefined) checkSpace(local, plan.engines.length);
      if (!managesEngines) adoptFirst();
      let recorded = new Map<string, Record<string, unknown>>();
      const summary = (): RolloutSummary =>
        summarizeRollout(
          plan.engines.map((e) => e.engine),
          events,
          recorded,
        );
      try {
        await upFleet(stack, common, plan);
      } catch (error) {
        await sayOutputsKept(stack);
        // The engines a halt kept the run from are described by what the stack last recorded of them.
        recorded = await recordedOf(stack);
        throw new UpFailed(error, [...failureLines(events), ...summary().interruptions]);
      } finally {
        print(`\n${renderRolloutSummary(summary())}\n`);
      }
      return 0;
    }
    case "refresh":
      // With the program, so the provider logs on with the stack's current credentials (see workspace.ts).
      return onRecordedStack(invocation.stackName, () => stack.refresh({ ...common, runProgram: true }));
    case "destroy":
      return onRecordedStack(invocation.stackName, () => stack.destroy(common));
  }
}

/** The stack's place in its backend, where that is a folder on this machine (file://). */
async function localStackOf(stack: Stack): Promise<LocalStack | undefined> {
  const backendDir = localBackendDir(stack.workspace.envVars["PULUMI_BACKEND_URL"]);
  if (backendDir === undefined) return undefined;
  return { backendDir, project: (await stack.workspace.projectSettings()).name, stack: stack.name };
}

/** Refresh and destroy work on what the backend holds: a stack it does not hold is said so, exit 2. */
async function onRecordedStack(stackName: string, operation: () => Promise<unknown>): Promise<number> {
  try {
    await operation();
    return 0;
  } catch (error) {
    if (!(error instanceof StackNotFoundError)) throw error;
    return noRecordedStack(stackName);
  }
}

function noRecordedStack(stackName: string): number {
  printError(`mps-hotfix: the backend holds no stack ${stackName} yet; adopt, preview or up creates it\n`);
  return 2;
}

const options = {
  stack: { type: "string", short: "s" },
  format: { type: "string", default: "markdown" },
  "catalog-entry": { type: "string" },
  "recover-run": { type: "string", multiple: true },
  engine: { type: "string" },
  hotfix: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The command line read by node:util's parseArgs; an option it does not know is a usage error, exit 2. */
function parsedArgs(
  argv: readonly string[],
): ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>> | number {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, options });
  } catch (error) {
    if (!(error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS_")) throw error;
    printError(`mps-hotfix: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
}

function parse(argv: readonly string[]): Invocation | PackageInspection | StepScriptPrint | number {
  const parsed = parsedArgs(argv);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (values.help === true) {
    print(`${usage}\n`);
    return 0;
  }
  if (positionals[0] === "package") {
    if (positionals[1] !== "inspect" || positionals.length !== 3) {
      printError(`mps-hotfix: usage: mps-hotfix package inspect <file.msi> [--catalog-entry <KB id>]\n`);
      return 2;
    }
    const entry = values["catalog-entry"];
    return {
      command: "package-inspect",
      path: positionals[2]!,
      ...(entry !== undefined ? { catalogEntry: entry } : {}),
    };
  }
  if (positionals[0] === "script") {
    const usageLine = "usage: mps-hotfix script <step> --stack <name> --engine <name> [--hotfix <KB id>]";
    if (positionals.length !== 2 || values.stack === undefined || values.engine === undefined) {
      printError(`mps-hotfix: ${usageLine}\n`);
      return 2;
    }
    return {
      command: "script",
      stackName: values.stack,
      request: {
        step: positionals[1]!,
        engine: values.engine,
        ...(values.hotfix !== undefined ? { hotfix: values.hotfix } : {}),
      },
    };
  }
  if (values.engine !== undefined || values.hotfix !== undefined) {
    printError("mps-hotfix: --engine and --hotfix are options of script only\n");
    return 2;
  }
  const command = commands.find((c) => c === positionals[0]);
  if (command === undefined || positionals.length !== 1) {
    printError(
      `mps-hotfix: ${positionals.length === 0 ? "no command given" : `unknown command ${positionals.join(" ")}`}\n${usage}\n`,
    );
    return 2;
  }
  if (values.stack === undefined) {
    printError("mps-hotfix: --stack is required\n");
    return 2;
  }
  if (values.format !== "markdown" && values.format !== "json") {
    printError(`mps-hotfix: --format must be markdown or json, not ${values.format}\n`);
    return 2;
  }
  const recoverRuns = values["recover-run"] ?? [];
  if (recoverRuns.length > 0 && command !== "up") {
    printError("mps-hotfix: --recover-run is an option of up only\n");
    return 2;
  }
  const badRun = recoverRuns.find((id) => !RunId.safeParse(id).success);
  if (badRun !== undefined) {
    printError(
      `mps-hotfix: --recover-run ${badRun}: not a run id (a maintenance lease names its run, such as 20261207T021500Z-1a2b3c)\n`,
    );
    return 2;
  }
  return { command, stackName: values.stack, format: values.format, recoverRuns };
}

/** The command running (run): its stack, and the engines whose runbook is under way, from its events. */
let running: () => { readonly stackName: string; readonly underWay: readonly string[] } = () => ({
  stackName: "",
  underWay: [],
});
const interrupts = new Interrupts(() => running(), printError);

async function main(argv: readonly string[]): Promise<number> {
  const invocation = parse(argv);
  if (typeof invocation === "number") return invocation;
  if (invocation.command === "package-inspect") return inspectPackage(invocation);
  if (invocation.command === "script") return printStepScript(invocation);
  process.on("SIGINT", () => interrupts.onInterrupt());
  // The handlers learn the stack and the runs to recover from the environment (leaseHolder.ts).
  process.env[stackEnv] = invocation.stackName;
  if (invocation.recoverRuns.length > 0) process.env[recoverRunEnv] = invocation.recoverRuns.join(",");
  return run(invocation);
}

/** Exits, naming the engines an interrupted run may leave out of rotation (interrupts.ts). */
function exitNamingRunbooks(code: number): never {
  const notice = interrupts.exitNotice();
  if (notice !== undefined) printError(notice);
  process.exit(code);
}

/** An up the engine failed, with the product's line for each engine it failed on (failureLines). */
class UpFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly engines: readonly string[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

function exitCodeOf(error: unknown): number {
  if (error instanceof FleetConfigError || error instanceof BackendRefusal) {
    // Bad input, or a backend the command cannot safely write: one message, and no host was contacted.
    printError(`mps-hotfix: ${error.message}\n`);
    return 2;
  }
  // The engine's own output has been streamed already; the error's tail is what the Automation API kept of it.
  const message = error instanceof Error ? error.message : String(error);
  printError(`\nmps-hotfix: ${message.split("\n").slice(-30).join("\n")}\n`);
  // The last lines are the product's own: which engine failed, at which step, why.
  if (error instanceof UpFailed) {
    for (const line of error.engines) printError(`mps-hotfix: up failed: ${line}\n`);
  }
  return 1;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(exitNamingRunbooks, (error: unknown) => exitNamingRunbooks(exitCodeOf(error)));
}
