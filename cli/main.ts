#!/usr/bin/env node
import { parseArgs } from "node:util";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { FleetPlan } from "../components/config/fleetPlan";
import { buildDriftReport, renderMarkdown } from "./driftReport";
import { hotfixSteps } from "./hotfixSteps";
import { renderRolloutSummary, summarizeRollout } from "./rolloutSummary";
import { openStack, previewFleet, upFleet } from "./workspace";

const usage = `usage: mps-hotfix <command> --stack <name> [--format markdown|json]

commands:
  preview   refresh from the hosts, then show every engine whose files are older than required
  up        refresh, then run the KB runbook on every engine that needs it, one batch at a time
  adopt     register what each engine has now without changing any host (taking over a fleet)
  report    preview (changes nothing) and print a drift report for code review
  refresh   read every engine's live state into the stack
  destroy   stop managing the stack's engines (no hotfix is uninstalled)

options:
  --stack, -s <name>   the stack (stacks/Pulumi.<name>.yaml)
  --format <format>    report only: markdown (default) or json
  --help, -h`;

const commands = ["preview", "up", "adopt", "report", "refresh", "destroy"] as const;
type Command = (typeof commands)[number];

interface Invocation {
  readonly command: Command;
  readonly stackName: string;
  readonly format: "markdown" | "json";
}

const print = (text: string): void => void process.stdout.write(text);
const printError = (text: string): void => void process.stderr.write(text);

/** Runs one command; the engine's own output streams as it goes. Throws when the engine fails. */
export async function run(invocation: Invocation): Promise<void> {
  let plan: FleetPlan | undefined;
  const stack = await openStack({
    stackName: invocation.stackName,
    adoptOnly: invocation.command === "adopt",
    onPlan: (p) => (plan = p),
  });
  const events: EngineEvent[] = [];
  const common = { onOutput: print, color: "auto" as const, onEvent: (e: EngineEvent) => events.push(e) };
  switch (invocation.command) {
    case "preview":
      await previewFleet(stack, { ...common, diff: true });
      return;
    case "report": {
      // The report is the only thing on stdout, so it can be piped or posted as it is.
      await previewFleet(stack, { ...common, onOutput: () => undefined });
      const report = buildDriftReport(invocation.stackName, hotfixSteps(events));
      print(invocation.format === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report));
      return;
    }
    case "adopt":
      await upFleet(stack, common);
      return;
    case "up":
      try {
        await upFleet(stack, common);
      } finally {
        if (plan)
          print(
            `\n${renderRolloutSummary(
              summarizeRollout(
                plan.engines.map((e) => e.engine),
                hotfixSteps(events),
              ),
            )}\n`,
          );
      }
      return;
    case "refresh":
      await stack.refresh(common);
      return;
    case "destroy":
      await stack.destroy(common);
      return;
  }
}

function parse(argv: readonly string[]): Invocation | number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      stack: { type: "string", short: "s" },
      format: { type: "string", default: "markdown" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    print(`${usage}\n`);
    return 0;
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
  return { command, stackName: values.stack, format: values.format };
}

async function main(argv: readonly string[]): Promise<number> {
  const invocation = parse(argv);
  if (typeof invocation === "number") return invocation;
  // Ctrl-C also reaches the engine, which finishes its in-flight steps and records them; this
  // process waits for it, so the state and the output say what happened. A second Ctrl-C quits.
  let interrupts = 0;
  process.on("SIGINT", () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    printError(
      "\nmps-hotfix: interrupted; waiting for the engine to finish the current step and restore the engine (Ctrl-C again to quit now)\n",
    );
  });
  await run(invocation);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // The engine's own output has been streamed already; the error says which step failed.
      const message = error instanceof Error ? error.message : String(error);
      printError(`\nmps-hotfix: ${message.split("\n").slice(-30).join("\n")}\n`);
      process.exit(1);
    },
  );
}
