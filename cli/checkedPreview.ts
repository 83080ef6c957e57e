import type { PreviewOptions, PreviewResult, Stack } from "@pulumi/pulumi/automation";
import type { FleetPlan } from "../components/config/fleetPlan";
import { previewFleet, type StackOptions } from "./workspace";

/**
 * The inline program's verdict on the stack's input: its plan, or what is wrong with it. The
 * program runs in this process and validates the input before it declares anything (program.ts);
 * `hooks` go to openStack.
 */
export interface ProgramVerdict {
  readonly hooks: Required<Pick<StackOptions, "onPlan" | "onRefused">>;
  readonly plan: Promise<FleetPlan>;
}

export function programVerdict(): ProgramVerdict {
  let hooks: ProgramVerdict["hooks"] | undefined;
  const plan = new Promise<FleetPlan>((resolve, reject) => {
    hooks = { onPlan: resolve, onRefused: reject };
  });
  // Nobody may wait for the verdict (an up, a preview that failed first): that is not an error.
  plan.catch(() => undefined);
  if (hooks === undefined) throw new Error("unreachable: a promise's executor runs at once");
  return { hooks, plan };
}

/**
 * A preview as `mps-hotfix preview` and `report` run it: the stack's input is checked by the
 * program itself as the engine starts it, not by a CLI process that reads the config first
 * (0.3 s, and 70 MiB). The program validates before it registers any resource, and the preview's
 * refresh runs with the program (`runProgram`), so the engine refreshes each resource as the
 * program registers it: on bad input it registers none, and no provider host is started and no
 * host contacted. Until the program's plan is in, the engine's output is held back. On bad input
 * the program throws and the engine ends the preview with that error; the FleetConfigError is
 * thrown alone and what the engine printed about it is dropped, so the operator reads one message.
 * A preview that fails otherwise shows all it printed.
 */
export async function checkedPreview(
  stack: Stack,
  verdict: ProgramVerdict,
  options: Omit<PreviewOptions, "refresh"> = {},
): Promise<PreviewResult> {
  const print = options.onOutput;
  const held: string[] = [];
  let holding = true;
  const release = (): void => {
    holding = false;
    if (print !== undefined) for (const text of held.splice(0)) print(text);
  };
  let refused: { readonly error: unknown } | undefined;
  verdict.plan.then(release, (error: unknown) => {
    refused = { error };
  });
  const onOutput =
    print &&
    ((text: string): void => {
      if (holding) held.push(text);
      else print(text);
    });
  try {
    return await previewFleet(stack, { ...options, ...(onOutput ? { onOutput } : {}) });
  } catch (error) {
    if (refused !== undefined) throw refused.error;
    release();
    throw error;
  }
}
