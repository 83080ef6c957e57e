#!/usr/bin/env node
import { parseArgs } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { openStack } from "./workspace";

const usage = `usage: mps-hotfix <command> --stack <name>

commands:
  preview   refresh from the hosts, then show every engine whose files are older than required
  up        refresh, then run the KB runbook on every engine that needs it, one batch at a time
  adopt     register what each engine has now without changing any host (taking over a fleet)
  refresh   read every engine's live state into the stack
  destroy   stop managing the stack's engines (no hotfix is uninstalled)

options:
  --stack, -s <name>   the stack (stacks/Pulumi.<name>.yaml)
  --help, -h`;

type Command = "preview" | "up" | "adopt" | "refresh" | "destroy";
const commands: readonly Command[] = ["preview", "up", "adopt", "refresh", "destroy"];

const print = (text: string): void => void process.stdout.write(text);

/** Runs one engine operation, streaming the engine's own output; returns the process exit code. */
export async function run(command: Command, stack: Stack, signal?: AbortSignal): Promise<number> {
  const common = { onOutput: print, color: "auto" as const, ...(signal ? { signal } : {}) };
  switch (command) {
    case "preview":
      await stack.preview({ ...common, refresh: true, diff: true });
      return 0;
    case "up":
    case "adopt":
      await stack.up({ ...common, refresh: true });
      return 0;
    case "refresh":
      await stack.refresh(common);
      return 0;
    case "destroy":
      await stack.destroy(common);
      return 0;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { stack: { type: "string", short: "s" }, help: { type: "boolean", short: "h" } },
  });
  const command = positionals[0] as Command | undefined;
  if (values.help === true || command === undefined) {
    print(`${usage}\n`);
    return values.help === true ? 0 : 2;
  }
  if (!commands.includes(command) || positionals.length > 1) {
    process.stderr.write(`mps-hotfix: unknown command ${positionals.join(" ")}\n${usage}\n`);
    return 2;
  }
  if (values.stack === undefined) {
    process.stderr.write(`mps-hotfix: --stack is required\n`);
    return 2;
  }
  const stack = await openStack({ stackName: values.stack, adoptOnly: command === "adopt" });
  // Ctrl-C also reaches the engine, which finishes its in-flight steps and records them; this
  // process waits for it, so the state and the output say what happened. A second Ctrl-C quits.
  let interrupts = 0;
  process.on("SIGINT", () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(
      "\nmps-hotfix: interrupted; waiting for the engine to finish the current step and restore the engine (Ctrl-C again to quit now)\n",
    );
  });
  return run(command, stack);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // The engine's own output has been streamed already; the error says which step failed.
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`\nmps-hotfix: ${message.split("\n").slice(-30).join("\n")}\n`);
      process.exit(1);
    },
  );
}
