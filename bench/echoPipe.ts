import { type HostScript } from "../components/host/scriptAssembly";
import { invocationFor } from "../components/host/invocation";
import { commandLineLimits } from "../simulator/server";

/**
 * The product's invocation of a script without a payload as one cmd.exe command line, for a
 * client that cannot write to a command's standard input (Ansible's raw module): `echo` writes the
 * line the product sends on standard input (base64 of the script's UTF-8 text) and CRLF into a
 * pipe to the product's bootstrap, which reads its script from it and an empty payload after it.
 */
export function echoPipeCommandLine(script: HostScript): string {
  const { commandLine, stdin } = invocationFor(script, { kind: "direct" });
  const newline = stdin.indexOf("\n");
  if (newline !== stdin.length - 1) {
    throw new Error(`${script.name}: its standard input has a payload after the script, which echo cannot send`);
  }
  const line = `echo ${stdin.slice(0, newline)}| ${commandLine}`;
  if (line.length > commandLineLimits.cmd) {
    throw new Error(
      `${script.name}: echo's command line has ${line.length} characters; cmd.exe takes at most ${commandLineLimits.cmd}`,
    );
  }
  return line;
}
