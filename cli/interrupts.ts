import type { EngineEvent } from "@pulumi/pulumi/automation";
import { engineOf, hotfixSteps } from "./hotfixSteps";

/**
 * The engines whose maintenance the engine has started and not yet seen end, from its own events:
 * a create or update of an EngineHotfixes resource (not an adopt, which changes no host) with
 * neither outputs nor a failure yet. The runbooks run in the provider host the engine started,
 * not in this process, so the events are what this process knows of them.
 */
export function runbooksUnderWay(events: readonly EngineEvent[]): string[] {
  return hotfixSteps(events)
    .filter((step) => (step.op === "create" || step.op === "update") && !step.failed && step.outputs === undefined)
    .filter((step) => (step.metadata.new?.inputs as { adoptOnly?: unknown } | undefined)?.adoptOnly !== true)
    .map(engineOf);
}

/**
 * The operator's Ctrl-C. It reaches this process and the CLI, not the provider host: the engine
 * starts each plugin in a process group of its own (sdk/go/common/resource/plugin/plugin.go,
 * RegisterProcessGroup). The first makes the CLI cancel: the engine lets the steps under way
 * finish, each runbook to its end with its engine back in rotation, and starts no other. The
 * second makes it terminate, which closes the provider host with SIGINT: the host stops each
 * runbook after its current step and puts the engine back into rotation (hotfixProvider.ts
 * onInterrupt), within the 5 s the engine gives a plugin before SIGKILL (plugin.go, `kill`). The
 * third quits this process at once, naming the engines it may leave out of rotation and the lock
 * it may leave on the stack. Whenever this process ends with a runbook under way, it names the
 * engine.
 */
export class Interrupts {
  private count = 0;

  constructor(
    private readonly running: () => { readonly stackName: string; readonly underWay: readonly string[] },
    private readonly printError: (text: string) => void,
  ) {}

  private underWay(): readonly string[] {
    return this.running().underWay;
  }

  onInterrupt(): void {
    this.count += 1;
    if (this.count === 1) {
      this.printError(
        "\nmps-hotfix: interrupted; waiting for the engine to finish the current step and restore the engine (Ctrl-C again to stop sooner)\n",
      );
      return;
    }
    const underWay = this.underWay();
    if (underWay.length === 0) process.exit(130);
    if (this.count === 2) {
      this.printError(
        `\nmps-hotfix: stopping the runbook on ${underWay.join(", ")} after its current step and putting the engine back into rotation (Ctrl-C again to quit now)\n`,
      );
      return;
    }
    this.printError(quitNotice(underWay, this.running().stackName));
    process.exit(130);
  }

  /** What to say as this process ends: the engines whose runbook had not ended, if any. */
  exitNotice(): string | undefined {
    const underWay = this.underWay();
    if (this.count === 0 || underWay.length === 0) return undefined;
    return `mps-hotfix: the engine ended before the runbook on ${underWay.join(", ")}; the provider host was told to stop it after its current step and put the engine back into rotation, but it may be left out of rotation (engine deactivated, COM+ application stopped): check ${underWay.length === 1 ? "it" : "them"} before anything else\n`;
  }
}

/**
 * The CLI this process started loses its output when this process quits, and a Go program that
 * writes to a closed pipe ends on SIGPIPE (https://pkg.go.dev/os/signal, "SIGPIPE"), before it
 * removes the stack's lock; `pulumi cancel` removes it
 * (https://www.pulumi.com/docs/iac/cli/commands/pulumi_cancel/).
 */
function quitNotice(underWay: readonly string[], stackName: string): string {
  return (
    `\nmps-hotfix: QUIT DURING A RUNBOOK: ${underWay.join(", ")} may be left out of rotation (engine deactivated, COM+ application stopped); check ${underWay.length === 1 ? "it" : "them"} before anything else\n` +
    `mps-hotfix: the stack may be left locked; once no pulumi process of it runs, \`pulumi cancel --stack ${stackName}\` removes the lock\n`
  );
}
