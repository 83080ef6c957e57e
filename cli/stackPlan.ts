import { StackNotFoundError, type ConfigMap, type Deployment, type Stack } from "@pulumi/pulumi/automation";
import { planFleet, type FleetPlan } from "../components/config/fleetPlan";
import { engineHotfixesType, legacyHotfixOnEngineType } from "../components/engineHotfixes";
import { projectRoot } from "./projectRoot";
import { withStack } from "./workspace";

/** What the product reads of a stack before the engine runs: its checked plan, and whether it manages engines yet. */

type ConfigValue = { readonly value: unknown; readonly secret: boolean } | undefined;

/** A config value, parsed as JSON; undefined where the stack does not set it or it is not JSON. */
function configValue(config: ConfigMap, key: string): ConfigValue {
  const entry = config[key];
  if (entry === undefined) return undefined;
  try {
    return { value: JSON.parse(entry.value) as unknown, secret: entry.secret === true };
  } catch {
    return undefined;
  }
}

/**
 * The stack's fleet, validated as the program validates it, before the engine runs: bad input
 * gets its one message (a FleetConfigError) and no host is contacted.
 */
export async function planStack(stack: Stack): Promise<FleetPlan> {
  // The whole config in one CLI process: each process costs a quarter of a second, and the one
  // secret the product reads (the credentials) is needed decrypted here anyway.
  const config = await withStack(stack, () => stack.getAllConfig());
  const fleet = configValue(config, "mps-hotfix:fleet");
  const credentials = configValue(config, "mps-hotfix:credentials");
  return planFleet({
    stack: stack.name,
    fleet: fleet?.value,
    credentials: credentials?.value,
    credentialsAreSecret: credentials === undefined || credentials.secret,
    baseDir: projectRoot,
  });
}

/** Whether the stack's state holds any engine yet (a stack that does not must `adopt` first to see drift). */
export async function managesEngines(stack: Stack): Promise<boolean> {
  let state: Deployment;
  try {
    state = await stack.exportStack();
  } catch (error) {
    if (error instanceof StackNotFoundError) return false;
    throw error;
  }
  const resources = (state.deployment as { resources?: { type: string }[] } | undefined)?.resources ?? [];
  return resources.some((r) => r.type === engineHotfixesType || r.type === legacyHotfixOnEngineType);
}

/**
 * What an up reads before the engine starts, side by side: the stack's checked plan (bad input
 * stops it here, with no host contacted) and, unless it adopts, whether the stack manages any
 * engine yet.
 */
export async function beforeUp(stack: Stack, adopting: boolean): Promise<{ plan: FleetPlan; managesEngines: boolean }> {
  const [plan, manages] = await Promise.all([planStack(stack), adopting ? true : managesEngines(stack)]);
  return { plan, managesEngines: manages };
}
