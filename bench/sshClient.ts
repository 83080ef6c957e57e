import { Client } from "ssh2";
import type { SshEndpoint } from "../components/domain/endpoint";
import { fingerprintOf } from "../components/host/sshSession";

/** A bare ssh2 connection, configured as the product's SshSession configures it (pinned host key). */
export function connect(endpoint: SshEndpoint, password: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once("error", reject);
    client.once("ready", () => {
      client.off("error", reject);
      client.on("error", () => undefined);
      resolve(client);
    });
    client.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      password,
      readyTimeout: 60_000,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => fingerprintOf(key) === endpoint.hostKey,
    });
  });
}

/**
 * Runs one command line, writing `stdin` (if any) to its standard input before closing it, as the
 * product's SshSession does; resolves with its standard output once the channel closes with exit 0.
 */
export function run(client: Client, commandLine: string, stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec(commandLine, (error, channel) => {
      if (error) {
        reject(error);
        return;
      }
      const chunks: Buffer[] = [];
      let exitCode: number | undefined;
      channel.on("data", (chunk: Buffer) => chunks.push(chunk));
      channel.on("exit", (code: number | null) => (exitCode = code ?? undefined));
      channel.on("close", () => {
        if (exitCode === 0) resolve(Buffer.concat(chunks).toString("utf8"));
        else reject(new Error(`the command exited ${exitCode ?? "without an exit code"}`));
      });
      channel.end(stdin);
    });
  });
}
