import { fork, type ChildProcess } from "node:child_process";
import type { FleetFile, StepDelays } from "../simulator/fleetFile";
import { startSimulatedFleet, type SimulatedFleet, type SimulatedHost } from "../simulator/server";
import type { EngineChange } from "../simulator/engineHost";
import type { StepRecord } from "../simulator/stepLog";

/**
 * A simulated fleet in a process of its own, so that its SSH servers share the event loop
 * neither of the operation runners nor of the bare-SSH floor, and so that its memory is not
 * counted as the product's.
 */

type Request =
  | { readonly id: number; readonly type: "start"; readonly fleet: FleetFile; readonly stepDelaysMs: StepDelays }
  | { readonly id: number; readonly type: "alter"; readonly names: readonly string[]; readonly change: EngineChange }
  | { readonly id: number; readonly type: "log" }
  | { readonly id: number; readonly type: "stop" };

type Reply =
  | { readonly id: number; readonly ok: true; readonly hosts?: readonly SimulatedHost[]; readonly log?: StepRecord[] }
  | { readonly id: number; readonly ok: false; readonly error: string };

type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

export class FleetProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private started: readonly SimulatedHost[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (reply: Reply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    child.on("exit", () => {
      for (const settle of this.pending.values()) settle({ id: 0, ok: false, error: "fleet process exited" });
      this.pending.clear();
    });
  }

  /** Starts a fleet process and its simulator; `stepDelaysMs` overrides the fleet's delays. */
  static async start(fleet: FleetFile, stepDelaysMs: StepDelays): Promise<FleetProcess> {
    const handle = new FleetProcess(
      fork(__filename, ["--fleet-process"], { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
    );
    try {
      handle.started = (await handle.request({ type: "start", fleet, stepDelaysMs })).hosts ?? [];
    } catch (error) {
      handle.child.kill();
      throw error;
    }
    return handle;
  }

  /** Every simulated SSH endpoint, as the simulator reported it. */
  get hosts(): readonly SimulatedHost[] {
    return this.started;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async alter(names: readonly string[], change: EngineChange): Promise<void> {
    await this.request({ type: "alter", names, change });
  }

  async log(): Promise<StepRecord[]> {
    return (await this.request({ type: "log" })).log ?? [];
  }

  /** Stops every listener and connection, then the process. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    if (this.child.connected) await this.request({ type: "stop" }).catch(() => undefined);
    else this.child.kill();
    await exited;
  }

  private request(body: RequestBody): Promise<Extract<Reply, { ok: true }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => {
        if (reply.ok) resolve(reply);
        else reject(new Error(reply.error));
      });
      this.child.send({ ...body, id });
    });
  }
}

/** The fleet process: starts the simulator, then answers the parent's requests. */
function serve(): void {
  let fleet: SimulatedFleet | undefined;
  const reply = (message: Reply): void => void process.send?.(message);
  process.on("message", (request: Request) => {
    void (async () => {
      try {
        switch (request.type) {
          case "start":
            fleet = await startSimulatedFleet(request.fleet, { stepDelaysMs: request.stepDelaysMs });
            reply({ id: request.id, ok: true, hosts: fleet.hosts });
            return;
          case "alter":
            for (const name of request.names) fleet?.alter(name, request.change);
            reply({ id: request.id, ok: true });
            return;
          case "log":
            reply({ id: request.id, ok: true, log: [...(fleet?.log() ?? [])] });
            return;
          case "stop":
            await fleet?.stop();
            reply({ id: request.id, ok: true });
            process.disconnect();
            return;
        }
      } catch (error) {
        reply({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  process.on("disconnect", () => {
    void (fleet?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

if (require.main === module && process.argv.includes("--fleet-process")) serve();
