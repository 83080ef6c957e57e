import { sshHopOf, type Credential, type EngineRoute, type SshEndpoint } from "../domain/endpoint";
import { decodeHostOutput } from "./answers";
import { relayFailedExitCode, relayUnreachableExitCode, type HostScript } from "./scriptAssembly";
import { invocationFor, type Route } from "./invocation";
import { SshSession, TransportError, type ExecResult } from "./sshSession";

/** The value of the first `<key>=` line of an answer, if any. */
function lineValue(stdout: string, key: string): string | undefined {
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1);
}

/**
 * A relay reached the engine, or tried to run the step, and the step failed with an error rather
 * than an answer: raised by the engine's script, or by the relay itself. Not a connection failure.
 */
export class RelayStepError extends Error {
  override readonly name = "RelayStepError";
}

function scriptRouteOf(route: EngineRoute): Route {
  return route.kind === "direct" ? { kind: "direct" } : { kind: "relay", engineHost: route.engineHost };
}

export interface ConnectPolicy {
  readonly connectTimeoutMs: number;
  /** Connection attempts while the host refuses or does not answer (never for rejected credentials or a wrong key). */
  readonly connectAttempts: number;
  /** The wait before the second attempt; it doubles after each further one. */
  readonly connectRetryDelayMs: number;
  /** Told of each retry, so an operator sees a flaky network rather than a hang. */
  readonly onRetry?: (message: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Failures a later attempt may not meet: the host was not there yet, or did not answer in time. */
const retriedFailures: ReadonlySet<string> = new Set(["connection-refused", "connect-timeout"]);

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
    private readonly policy: ConnectPolicy,
  ) {
    this.hop = sshHopOf(route);
  }

  private async openSession(): Promise<SshSession> {
    if (this.session) return this.session;
    const credential = this.credentialOf(this.hop.name);
    const { connectAttempts, connectRetryDelayMs } = this.policy;
    const sleep = this.policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
      try {
        this.session = await SshSession.open(this.hop, credential, this.policy.connectTimeoutMs);
        return this.session;
      } catch (error) {
        const retried = error instanceof TransportError && retriedFailures.has(error.failure);
        if (!retried || attempt >= connectAttempts) throw error;
        const delay = connectRetryDelayMs * 2 ** (attempt - 1);
        this.policy.onRetry?.(
          `connect attempt ${attempt} of ${connectAttempts} failed (${error.message}); retrying in ${delay / 1000}s`,
        );
        await sleep(delay);
      }
    }
  }

  /**
   * Runs one script: the bootstrap command line, the script and its payload on standard input. The
   * answer is decoded in the code page the host declares, without that declaration.
   */
  async run(script: HostScript, timeoutMs: number): Promise<ExecResult> {
    const route = scriptRouteOf(this.route);
    const session = await this.openSession();
    const { commandLine, stdin } = invocationFor(script, route);
    let raw: ExecResult;
    try {
      raw = await session.exec(commandLine, { stdin, timeoutMs });
    } catch (error) {
      session.close();
      this.session = undefined;
      throw error;
    }
    const result: ExecResult = {
      ...raw,
      stdout: decodeHostOutput(script.name, raw.stdoutBytes ?? Buffer.from(raw.stdout, "utf8")).text,
    };
    if (route.kind === "relay" && result.exitCode === relayUnreachableExitCode) {
      throw new TransportError(
        "unreachable",
        `relay ${this.hop.name} could not reach engine ${this.engine} (${route.engineHost}) over WinRM: ${lineValue(result.stdout, "relay.winrm") ?? "no reason given"}`,
      );
    }
    if (route.kind === "relay" && result.exitCode === relayFailedExitCode) {
      throw new RelayStepError(
        `relay ${this.hop.name} reached engine ${this.engine} (${route.engineHost}) over WinRM, but ${script.name} failed with an error: ${lineValue(result.stdout, "relay.error") ?? "no reason given"}`,
      );
    }
    return result;
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
