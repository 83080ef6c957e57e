import { sshHopOf, type Credential, type EngineRoute, type SshEndpoint } from "../domain/endpoint";
import { errorLine } from "./answers";
import { commandLineFor, relayUnreachableExitCode, type HostScript, type Route } from "./scripts";
import { SshSession, TransportError, type ExecResult } from "./sshSession";

function scriptRouteOf(route: EngineRoute): Route {
  return route.kind === "direct" ? { kind: "direct" } : { kind: "relay", engineHost: route.engineHost };
}

/**
 * The way to one engine: an SSH session to the engine itself, or to the relay that reaches it
 * with Invoke-Command. A session that was lost is reopened once for the next script, so that a
 * dropped connection does not stop the product from putting the engine back into rotation.
 */
export class EngineConnection {
  private session: SshSession | undefined;
  private readonly hop: SshEndpoint;

  constructor(
    readonly engine: string,
    private readonly route: EngineRoute,
    /** The credential of a hop, by its name in the stack; throws when there is none. */
    private readonly credentialOf: (hop: string) => Credential,
    private readonly connectTimeoutMs: number,
  ) {
    this.hop = sshHopOf(route);
  }

  private async openSession(): Promise<SshSession> {
    if (this.session) return this.session;
    this.session = await SshSession.open(this.hop, this.credentialOf(this.hop.name), this.connectTimeoutMs);
    return this.session;
  }

  async run(script: HostScript, timeoutMs: number): Promise<ExecResult> {
    const route = scriptRouteOf(this.route);
    const session = await this.openSession();
    let result: ExecResult;
    try {
      result = await session.exec(commandLineFor(script, route), { stdin: script.stdin, timeoutMs });
    } catch (error) {
      session.close();
      this.session = undefined;
      throw error;
    }
    if (route.kind === "relay" && result.exitCode === relayUnreachableExitCode) {
      throw new TransportError(
        "unreachable",
        `relay ${this.hop.name} could not reach engine ${this.engine} (${route.engineHost}) over WinRM: ${errorLine(result.stdout) ?? "no reason given"}`,
      );
    }
    return result;
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
