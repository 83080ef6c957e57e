import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { Credential, SshEndpoint } from "../domain/endpoint";

export type TransportFailure =
  | "connection-refused"
  | "connect-timeout"
  | "auth-rejected"
  | "host-key-mismatch"
  | "step-timeout"
  | "connection-lost"
  | "answer-too-large"
  | "unreachable";

/** A step could not be carried out because the host could not be reached or stopped answering. */
export class TransportError extends Error {
  constructor(
    readonly failure: TransportFailure,
    message: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

export interface ExecResult {
  /** Standard output read as UTF-8; `stdoutBytes` is what the host sent, for a reader that knows its code page. */
  readonly stdout: string;
  readonly stdoutBytes?: Buffer;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * The most a step's answer may hold, standard output and standard error together. The largest
 * answer any script prints is the probe's with a long PendingFileRenameOperations list or the
 * install log's tail (a few KiB); 4 MiB is a thousand times that. A host that sends more, or keeps
 * streaming, fails its step: the channel is no longer read and the connection is dropped, so the
 * command never holds more than this per engine (a 560 MiB answer used to end the command with
 * ERR_STRING_TOO_LONG when it was decoded).
 */
export const maxAnswerBytes = 4 * 1024 * 1024;

/** "SHA256:" and the unpadded base64 of the key blob's SHA-256, as OpenSSH prints fingerprints. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

function describe(endpoint: SshEndpoint): string {
  return `${endpoint.name} (${endpoint.host}:${endpoint.port})`;
}

/**
 * How the product dials a host, for `Client.connect`: its own TCP socket (Nagle's algorithm off),
 * the host key checked against the pin, keepalives, and only the credential it was given. The
 * simulator's tests connect with it too, so they see the timing the product sees.
 */
export function connectConfig(
  endpoint: SshEndpoint,
  credential: Credential,
  connectTimeoutMs: number,
  onHostKey: (fingerprint: string) => void = () => undefined,
): ConnectConfig & { readonly sock: Socket } {
  // Each step is one small request and answer; Nagle's algorithm would hold every one back.
  const sock = connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
  return {
    sock,
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.user,
    readyTimeout: connectTimeoutMs,
    keepaliveInterval: 5000,
    keepaliveCountMax: 3,
    tryKeyboard: false,
    hostVerifier: (key: Buffer) => {
      const offered = fingerprintOf(key);
      onHostKey(offered);
      return endpoint.trustUnknownHostKey === true || offered === endpoint.hostKey;
    },
    ...(credential.password !== undefined ? { password: credential.password } : {}),
    ...(credential.privateKey !== undefined ? { privateKey: credential.privateKey } : {}),
  };
}

/** One SSH connection to one host, with the host key pinned; commands run one at a time. */
export class SshSession {
  private closed = false;
  private lost: TransportError | undefined;

  private constructor(
    private readonly client: Client,
    readonly endpoint: SshEndpoint,
  ) {
    client.on("error", (error: Error) => {
      this.lost ??= new TransportError("connection-lost", `connection to ${describe(endpoint)} lost: ${error.message}`);
    });
    client.on("close", () => {
      if (!this.closed)
        this.lost ??= new TransportError(
          "connection-lost",
          `connection to ${describe(endpoint)} was closed by the host`,
        );
    });
  }

  static open(endpoint: SshEndpoint, credential: Credential, connectTimeoutMs: number): Promise<SshSession> {
    const client = new Client();
    let offered: string | undefined;
    const config = connectConfig(endpoint, credential, connectTimeoutMs, (fingerprint) => (offered = fingerprint));
    return new Promise((resolve, reject) => {
      const fail = (error: Error & { level?: string; code?: string }): void => {
        client.removeAllListeners("ready");
        // ssh2 may emit a second error (a reset after a failed handshake); the first one decides.
        client.on("error", () => undefined);
        client.end();
        const where = describe(endpoint);
        if (offered !== undefined && endpoint.trustUnknownHostKey !== true && offered !== endpoint.hostKey) {
          reject(
            new TransportError(
              "host-key-mismatch",
              `refused ${where}: it offered host key ${offered}, the stack pins ${endpoint.hostKey ?? "none"}`,
            ),
          );
        } else if (error.code === "ECONNREFUSED") {
          reject(new TransportError("connection-refused", `cannot connect to ${where}: connection refused`));
        } else if (error.level === "client-authentication") {
          reject(new TransportError("auth-rejected", `${where} rejected the credentials of user ${endpoint.user}`));
        } else if (/timed out/i.test(error.message)) {
          reject(
            new TransportError("connect-timeout", `no SSH handshake from ${where} within ${connectTimeoutMs / 1000}s`),
          );
        } else {
          reject(new TransportError("unreachable", `cannot connect to ${where}: ${error.message}`));
        }
      };
      client.once("error", fail);
      client.once("ready", () => {
        client.removeListener("error", fail);
        resolve(new SshSession(client, endpoint));
      });
      client.connect(config);
    });
  }

  /**
   * Runs one command line; bounded by timeoutMs, after which the connection is abandoned, and by
   * maxAnswerBytes (or options.maxAnswerBytes), past which the connection is abandoned too.
   */
  exec(
    commandLine: string,
    options: { readonly stdin?: string | undefined; readonly timeoutMs: number; readonly maxAnswerBytes?: number },
  ): Promise<ExecResult> {
    const limit = options.maxAnswerBytes ?? maxAnswerBytes;
    if (this.lost) return Promise.reject(this.lost);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (action: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.client.removeListener("close", onClose);
        action();
      };
      const timer = setTimeout(() => {
        settle(() => {
          this.lost = new TransportError(
            "step-timeout",
            `${describe(this.endpoint)} did not answer within ${options.timeoutMs / 1000}s`,
          );
          this.client.destroy();
          reject(this.lost);
        });
      }, options.timeoutMs);
      const onClose = (): void =>
        settle(() =>
          reject(
            this.lost ??
              new TransportError("connection-lost", `connection to ${describe(this.endpoint)} dropped during the step`),
          ),
        );
      this.client.once("close", onClose);
      const onChannel = (error: Error | undefined, channel: ClientChannel): void => {
        if (error) {
          settle(() =>
            reject(
              new TransportError(
                "connection-lost",
                `${describe(this.endpoint)} refused to run the step: ${error.message}`,
              ),
            ),
          );
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let received = 0;
        let exitCode: number | undefined;
        const keep =
          (into: Buffer[]) =>
          (chunk: Buffer): void => {
            if (settled) return;
            received += chunk.length;
            if (received <= limit) {
              into.push(chunk);
              return;
            }
            settle(() => {
              // Stop reading at once: the channel is closed and the connection dropped, whatever the host still sends.
              this.lost = new TransportError(
                "answer-too-large",
                `${describe(this.endpoint)} answered more than ${limit} bytes (the limit of a step's answer); the step was stopped and its answer dropped`,
              );
              stdout.length = 0;
              stderr.length = 0;
              channel.close();
              this.client.destroy();
              reject(this.lost);
            });
          };
        channel.on("data", keep(stdout));
        channel.stderr.on("data", keep(stderr));
        channel.on("exit", (code: number | null) => {
          exitCode = code ?? undefined;
        });
        channel.on("close", () => {
          settle(() => {
            if (exitCode === undefined) {
              reject(
                new TransportError("connection-lost", `${describe(this.endpoint)} ended the step without an exit code`),
              );
              return;
            }
            // Inside an event handler a throw would escape every caller: whatever fails here fails the step.
            try {
              const stdoutBytes = Buffer.concat(stdout);
              resolve({
                stdout: stdoutBytes.toString("utf8"),
                stdoutBytes,
                stderr: Buffer.concat(stderr).toString("utf8"),
                exitCode,
              });
            } catch (error) {
              reject(
                new TransportError(
                  "connection-lost",
                  `${describe(this.endpoint)}: the step's answer could not be read: ${(error as Error).message}`,
                ),
              );
            }
          });
        });
        if (options.stdin !== undefined) channel.end(options.stdin);
        else channel.end();
      };
      try {
        this.client.exec(commandLine, onChannel);
      } catch (error) {
        // ssh2 throws at once when the connection is no longer writable: a transport error like any other.
        settle(() =>
          reject(
            new TransportError(
              "connection-lost",
              `${describe(this.endpoint)} could not start the step: ${(error as Error).message}`,
            ),
          ),
        );
      }
    });
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }
}
