import type { EnginePlan, SshEndpoint } from "../config/fleetPlan";
import { errorLine } from "./answers";
import { commandLineFor, relayUnreachableExitCode, type HostScript, type Route } from "./scripts";
import { SshSession, TransportError, type ExecResult, type SshCredential } from "./sshSession";

/** Credentials of every hop, by the endpoint's name in the stack. */
export type CredentialsByName = Readonly<Record<string, SshCredential>>;

/** Anything that runs a host script: the real connection, or a fake in unit tests. */
export interface ScriptRunner {
  run(script: HostScript, timeoutMs: number): Promise<ExecResult>;
}

function hopOf(engine: EnginePlan): { readonly endpoint: SshEndpoint; readonly route: Route } {
  return engine.route.kind === "direct"
    ? { endpoint: engine.route.endpoint, route: { kind: "direct" } }
    : { endpoint: engine.route.relay, route: { kind: "relay", engineHost: engine.route.engineHost } };
}

/**
 * The way to one engine: an SSH session to the engine itself, or to the relay that reaches it
 * with Invoke-Command. A session that was lost is reopened once for the next script, so that a
 * dropped connection does not stop the product from putting the engine back into rotation.
 */
export class EngineConnection implements ScriptRunner {
  private session: SshSession | undefined;

  constructor(
    readonly engine: EnginePlan,
    private readonly credentials: CredentialsByName,
    private readonly connectTimeoutMs: number,
  ) {}

  private async sessionFor(endpoint: SshEndpoint): Promise<SshSession> {
    if (this.session) return this.session;
    const credential = this.credentials[endpoint.name];
    if (credential === undefined) throw new TransportError("auth-rejected", `no credentials for ${endpoint.name}`);
    this.session = await SshSession.open(endpoint, credential, this.connectTimeoutMs);
    return this.session;
  }

  async run(script: HostScript, timeoutMs: number): Promise<ExecResult> {
    const { endpoint, route } = hopOf(this.engine);
    const session = await this.sessionFor(endpoint);
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
        `relay ${endpoint.name} could not reach engine ${this.engine.name} (${route.engineHost}) over WinRM: ${errorLine(result.stdout) ?? "no reason given"}`,
      );
    }
    return result;
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
