import * as grpc from "@grpc/grpc-js";
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";

/**
 * Lines written to the engine's log (its Log call, as a provider host's own logging reaches it),
 * one after the other in the order written. The engine shows them in its output as it shows a
 * provider host's stderr. Until the engine says where it listens, lines wait; a line the engine
 * did not take, and every line when it never said, goes to stderr instead.
 */
export class EngineLog {
  private client: EngineClient | undefined;
  private waiting: string[] = [];
  private last: Promise<void> = Promise.resolve();

  connect(address: string): void {
    this.client?.close();
    this.client = new EngineClient(address, grpc.credentials.createInsecure());
    const waiting = this.waiting;
    this.waiting = [];
    for (const line of waiting) this.write(line);
  }

  write(line: string): void {
    const client = this.client;
    if (client === undefined) {
      this.waiting.push(line);
      return;
    }
    const request = new LogRequest().setSeverity(LogSeverity.INFO).setMessage(line);
    this.last = this.last.then(
      () =>
        new Promise<void>((resolve) => {
          client.log(request, (error) => {
            if (error) console.error(line);
            resolve();
          });
        }),
    );
  }

  /** Once every line written so far has been taken (or gone to stderr). */
  sent(): Promise<void> {
    return this.last;
  }

  async close(): Promise<void> {
    await this.last;
    for (const line of this.waiting) console.error(line);
    this.waiting = [];
    this.client?.close();
    this.client = undefined;
  }
}
