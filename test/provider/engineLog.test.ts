import * as grpc from "@grpc/grpc-js";
import { EngineService } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogSeverity, type LogRequest } from "@pulumi/pulumi/proto/engine_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { EngineLog } from "../../components/provider/engineLog";

/** The engine's log as the in-process provider writes to it, against an engine's Log service on loopback. */

interface FakeEngine {
  readonly address: string;
  readonly lines: string[];
  stop(): void;
}

async function fakeEngine(delayMs = 0): Promise<FakeEngine> {
  const lines: string[] = [];
  const server = new grpc.Server();
  server.addService(EngineService, {
    log: (call: grpc.ServerUnaryCall<LogRequest, Empty>, callback: grpc.sendUnaryData<Empty>) => {
      const severity = call.request.getSeverity();
      setTimeout(() => {
        lines.push(`${severity === LogSeverity.INFO ? "info" : String(severity)}: ${call.request.getMessage()}`);
        callback(null, new Empty());
      }, delayMs);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, lines, stop: () => server.forceShutdown() };
}

describe("EngineLog", () => {
  test("lines written before the engine says where it listens reach it first, all in order, before sent() resolves", async () => {
    const engine = await fakeEngine(20);
    const log = new EngineLog();
    try {
      log.write("[MPS01 1 of 2] probe: done (0.1s)");
      log.connect(engine.address);
      log.write("[MPS01 1 of 2] deactivate-engine: done (0.2s)");
      log.write("[MPS01 1 of 2] shutdown-complus: done (1.6s)");
      await log.sent();
      expect(engine.lines).toEqual([
        "info: [MPS01 1 of 2] probe: done (0.1s)",
        "info: [MPS01 1 of 2] deactivate-engine: done (0.2s)",
        "info: [MPS01 1 of 2] shutdown-complus: done (1.6s)",
      ]);
    } finally {
      await log.close();
      engine.stop();
    }
  });

  test("a line the engine does not take, and every line when it never said where it listens, goes to stderr", async () => {
    const stderr = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const engine = await fakeEngine();
      const gone = engine.address;
      engine.stop();
      const toGone = new EngineLog();
      toGone.connect(gone);
      toGone.write("[MPS02] UNREACHABLE: cannot connect to MPS02");
      await toGone.close();
      const neverAttached = new EngineLog();
      neverAttached.write("[MPS03] SKIPPED: the change window had closed");
      await neverAttached.close();
      expect(stderr.mock.calls).toEqual([
        ["[MPS02] UNREACHABLE: cannot connect to MPS02"],
        ["[MPS03] SKIPPED: the change window had closed"],
      ]);
    } finally {
      stderr.mockRestore();
    }
  });
});
