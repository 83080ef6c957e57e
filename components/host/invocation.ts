import { powershellCommandLine } from "./powershell";
import { renderRelayScript, renderScript, type HostScript } from "./scriptAssembly";
import { bootstrapFile } from "./scriptFiles";

/**
 * No script travels on a command line. The command line is always the same short bootstrap
 * (powershell/bootstrap.ps1, well under cmd.exe's 8,191 characters), which makes the output
 * encoding explicit (UTF-8 without a byte order mark; PowerShell 2.0 otherwise writes redirected
 * output in the console's OEM code page), says which one is in force, then reads the script (base64
 * of its UTF-8 text, on the first line of standard input) and the payload (the rest), and runs it.
 * The script's own `exit` ends powershell.exe with the script's exit code.
 */
export const bootstrapScript = bootstrapFile.sent;

/** The one command line the product ever sends to a host, whatever the script, the host or its shell. */
export const bootstrapCommandLine = powershellCommandLine(bootstrapScript);

/** The first line the bootstrap prints: the code page its output is written in. */
export const encodingKey = "encoding";

/** How a step reaches its engine: straight over SSH, or over SSH to a relay that uses WinRM. */
export type Route = { readonly kind: "direct" } | { readonly kind: "relay"; readonly engineHost: string };

/** What goes over SSH for one script: the bootstrap command line, and the script and its payload as its input. */
export interface Invocation {
  readonly commandLine: string;
  readonly stdin: string;
}

/** The script as the host runs it on a route: the engine's script, or the relay script wrapping it. */
export function scriptTextFor(script: HostScript, route: Route): string {
  const inner = renderScript(script);
  return route.kind === "direct" ? inner : renderRelayScript(route.engineHost, inner);
}

export function invocationFor(script: HostScript, route: Route): Invocation {
  const text = Buffer.from(scriptTextFor(script, route), "utf8").toString("base64");
  return { commandLine: bootstrapCommandLine, stdin: `${text}\n${script.stdin ?? ""}` };
}
