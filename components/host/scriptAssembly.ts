import { quotePowerShell } from "./powershell";
import { payloadParameter, relayFile, stepFiles, type ScriptFile, type ScriptParameter } from "./scriptFiles";
import type { ScriptName } from "./scriptNames";

/**
 * The text a host runs for one step, assembled from the files in `powershell/`: a header naming the
 * step, its parameters as a hashtable of single-quoted literals, then the step's file as a script
 * block called with those parameters (splatting, about_Splatting), common.ps1 after its param()
 * line, its includes replaced by the shared files and its comment lines left out (scriptFiles.ts). Nothing is spliced into a file: a
 * change to what runs on the servers is a change to a `.ps1` file. The same text runs directly or
 * inside the relay script.
 *
 *     # mps-hotfix script=<step>
 *     param($Payload)                 (only a step that takes the staged package)
 *     $parameters = @{
 *       Name = 'value'
 *       List = @('one', 'two')
 *       Payload = $Payload            (only a step that takes the staged package)
 *     }
 *     # end of parameters
 *     & {
 *     <step>.ps1, as sent>
 *     } @parameters
 */
export type ScriptParams = Readonly<Record<string, string | readonly string[]>>;

export interface HostScript {
  readonly name: ScriptName;
  readonly params: ScriptParams;
  /** The script's payload (the staged package, base64), after the script on standard input. */
  readonly stdin?: string;
}

export const scriptHeaderPrefix = "# mps-hotfix script=";
export const relayHeader = "# mps-hotfix relay";
export const parametersStart = "$parameters = @{";
export const parametersEnd = "}";
export const endOfParameters = "# end of parameters";
export const payloadParam = `param($${payloadParameter})`;
export const payloadEntry = `  ${payloadParameter} = $${payloadParameter}`;
export const scriptBlockStart = "& {";
export const scriptBlockEnd = "} @parameters";

/** A relay's exit code when WinRM could not connect to the engine, or lost the connection: the step may not have run. */
export const relayUnreachableExitCode = 20;
/** A relay's exit code when the step failed with an error of its own, or one raised on the engine without an answer. */
export const relayFailedExitCode = 21;

/** The parameters of every script that carries the maintenance lease along (see lease.ps1). */
export const leaseParams = ["LeaseRun", "LeaseTakeover", "Lease"] as const;

/** The parameters the product fills in: every one the file declares but the payload, which comes from standard input. */
export function filledParameters(file: ScriptFile): readonly ScriptParameter[] {
  return file.params.filter((param) => param.name !== payloadParameter);
}

export function takesPayload(file: ScriptFile): boolean {
  return file.params.some((param) => param.name === payloadParameter);
}

function renderValue(value: string | readonly string[]): string {
  return typeof value === "string" ? quotePowerShell(value) : `@(${value.map(quotePowerShell).join(", ")})`;
}

function checkParams(label: string, file: ScriptFile, params: ScriptParams): void {
  const declared = filledParameters(file);
  const expected = declared
    .map((param) => param.name)
    .sort()
    .join(",");
  const given = Object.keys(params).sort().join(",");
  if (expected !== given) throw new Error(`script ${label} takes parameters ${expected}, given ${given}`);
  for (const { name, type } of declared) {
    const value = params[name];
    if ((type === "string[]") !== Array.isArray(value)) {
      throw new Error(`script ${label}: parameter ${name} must be ${type === "string[]" ? "a list" : "a string"}`);
    }
    if (type === "int" && !/^(0|[1-9][0-9]{0,8})$/.test(value as string)) {
      throw new Error(`script ${label}: parameter ${name} must be a whole number, given ${JSON.stringify(value)}`);
    }
  }
}

/** The header, the parameters and the script block around a file, checked against its param() block. */
function assemble(header: string, label: string, file: ScriptFile, params: ScriptParams): string {
  checkParams(label, file, params);
  const payload = takesPayload(file);
  const lines = [header];
  if (payload) lines.push(payloadParam);
  lines.push(parametersStart);
  for (const { name } of filledParameters(file)) lines.push(`  ${name} = ${renderValue(params[name]!)}`);
  if (payload) lines.push(payloadEntry);
  lines.push(parametersEnd, endOfParameters);
  return `${lines.join("\n")}\n${scriptBlockStart}\n${file.sent}${scriptBlockEnd}\n`;
}

/** The parameters a script renders with: one that carries the lease and is given none of its parameters gets them empty. */
export function renderedParams(script: Pick<HostScript, "name" | "params">): ScriptParams {
  const carriesLease = stepFiles[script.name].params.some((param) => param.name === "LeaseRun");
  if (!carriesLease || leaseParams.some((name) => name in script.params)) return script.params;
  return { ...script.params, LeaseRun: "", LeaseTakeover: "", Lease: [] };
}

/** The text of one step's script as the engine runs it, directly or through a relay: the same either way. */
export function renderScript(script: Pick<HostScript, "name" | "params">): string {
  const header = `${scriptHeaderPrefix}${script.name}`;
  return assemble(header, script.name, stepFiles[script.name], renderedParams(script));
}

/**
 * The relay script (relay.ps1) around an engine's script: it runs it on the engine through
 * Invoke-Command (WinRM) from a management host, passing its payload on.
 */
export function renderRelayScript(engineHost: string, innerScript: string): string {
  const params = {
    Engine: engineHost,
    InnerScript: Buffer.from(innerScript, "utf8").toString("base64"),
    UnreachableExitCode: String(relayUnreachableExitCode),
    FailedExitCode: String(relayFailedExitCode),
  };
  return assemble(relayHeader, "relay", relayFile, params);
}
