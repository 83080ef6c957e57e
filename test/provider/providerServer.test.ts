import * as grpc from "@grpc/grpc-js";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as rpc from "@pulumi/pulumi/proto/provider_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { projectRoot } from "../../cli/workspace";
import { startProviderServer, type ProviderServer } from "../../components/provider/providerServer";
import { providerSourceFor } from "../../components/provider/providerShim";

/**
 * The provider previews and ups attach to, over gRPC as the engine calls it, with the
 * RolloutResult handlers (they touch no host; the EngineHotfixes handlers are covered by the
 * end-to-end previews and ups, which all go through this server).
 */

const rolloutResult = providerSourceFor("rolloutResultProvider");
const shortfall = { engine: "MPS01", outcome: "failed", reason: "install-package: exit 1603" };

let server: ProviderServer;
let client: ResourceProviderClient;

beforeAll(async () => {
  server = await startProviderServer(projectRoot, "mps-hotfix");
  client = new ResourceProviderClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  await call<rpc.ConfigureRequest, rpc.ConfigureResponse>(
    (req, done) => client.configure(req, done),
    new rpc.ConfigureRequest().setArgs(Struct.fromJavaScript({ "mps-hotfix:fleet": "{}" })),
  );
});

afterAll(async () => {
  client.close();
  await server.stop();
});

function call<Req, Res>(
  method: (req: Req, done: (error: grpc.ServiceError | null, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => method(req, (error, res) => (error ? reject(error) : resolve(res))));
}

const struct = (props: Record<string, JavaScriptValue>): Struct => Struct.fromJavaScript(props);

describe("the in-process provider", () => {
  test("check passes inputs through with the __provider they came with", async () => {
    const news = { shortfalls: [shortfall], __provider: rolloutResult };
    const res = await call<rpc.CheckRequest, rpc.CheckResponse>(
      (req, done) => client.check(req, done),
      new rpc.CheckRequest().setNews(struct(news)),
    );
    expect(res.getInputs()?.toJavaScript()).toEqual(news);
    expect(res.getFailuresList()).toEqual([]);
  });

  test("diff answers as the handlers decide", async () => {
    const diff = (shortfalls: JavaScriptValue[]): Promise<rpc.DiffResponse> =>
      call<rpc.DiffRequest, rpc.DiffResponse>(
        (req, done) => client.diff(req, done),
        new rpc.DiffRequest()
          .setId("rollout")
          .setOlds(struct({ shortfalls: [], __provider: rolloutResult }))
          .setNews(struct({ shortfalls, __provider: rolloutResult })),
      );
    const { DIFF_NONE, DIFF_SOME } = rpc.DiffResponse.DiffChanges;
    expect((await diff([])).getChanges()).toBe(DIFF_NONE);
    expect((await diff([shortfall])).getChanges()).toBe(DIFF_SOME);
  });

  test("read returns the handlers' state and keeps __provider", async () => {
    const props = { shortfalls: [], __provider: rolloutResult };
    const res = await call<rpc.ReadRequest, rpc.ReadResponse>(
      (req, done) => client.read(req, done),
      new rpc.ReadRequest().setId("rollout").setProperties(struct(props)),
    );
    expect([res.getId(), res.getProperties()?.toJavaScript()]).toEqual(["rollout", props]);
  });

  test("create, update and delete run the handlers and keep __provider; a handler's error is the call's", async () => {
    const props = { shortfalls: [], __provider: rolloutResult };
    const created = await call<rpc.CreateRequest, rpc.CreateResponse>(
      (req, done) => client.create(req, done),
      new rpc.CreateRequest().setProperties(struct(props)),
    );
    expect([created.getId(), created.getProperties()?.toJavaScript()]).toEqual(["rollout", props]);
    const updated = await call<rpc.UpdateRequest, rpc.UpdateResponse>(
      (req, done) => client.update(req, done),
      new rpc.UpdateRequest().setId("rollout").setOlds(struct(props)).setNews(struct(props)),
    );
    expect(updated.getProperties()?.toJavaScript()).toEqual(props);
    const refused = await call<rpc.UpdateRequest, rpc.UpdateResponse>(
      (req, done) => client.update(req, done),
      new rpc.UpdateRequest()
        .setId("rollout")
        .setOlds(struct(props))
        .setNews(struct({ shortfalls: [shortfall], __provider: rolloutResult })),
    ).then(
      () => undefined,
      (error: unknown) => error as grpc.ServiceError,
    );
    expect(refused?.code).toBe(grpc.status.UNKNOWN);
    expect(refused?.details).toMatch(
      /^the rollout did not bring every engine to the requirement: 1 engine\(s\) failed \(MPS01\)/,
    );
    const deleted = call<rpc.DeleteRequest, unknown>(
      (req, done) => client.delete(req, done),
      new rpc.DeleteRequest().setId("rollout").setProperties(struct(props)),
    );
    await expect(deleted).resolves.toBeInstanceOf(Empty);
  });

  test("a __provider of another program is refused by name", async () => {
    const foreign = "exports.handler = () => ({})";
    await expect(
      call<rpc.CheckRequest, rpc.CheckResponse>(
        (req, done) => client.check(req, done),
        new rpc.CheckRequest().setNews(struct({ __provider: foreign })),
      ),
    ).rejects.toMatchObject({ details: `not a provider of mps-hotfix: ${JSON.stringify(foreign)}` });
  });
});

describe("the in-process provider before the program's verdict", () => {
  const read = (port: number): Promise<rpc.ReadResponse> => {
    const gated = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const props = { shortfalls: [], __provider: rolloutResult };
    return call<rpc.ReadRequest, rpc.ReadResponse>(
      (req, done) => gated.read(req, done),
      new rpc.ReadRequest().setId("rollout").setProperties(struct(props)),
    ).finally(() => gated.close());
  };

  test("answers a call only once the verdict is in", async () => {
    let pass: () => void = () => undefined;
    const verdict = new Promise<void>((resolve) => (pass = resolve));
    const gatedServer = await startProviderServer(projectRoot, "mps-hotfix", { ready: verdict });
    try {
      let answered = false;
      const reading = read(gatedServer.port).then((res) => ((answered = true), res));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(answered).toBe(false);
      pass();
      expect((await reading).getId()).toBe("rollout");
    } finally {
      await gatedServer.stop();
    }
  });

  test("fails every call after the program refused the stack's input", async () => {
    const refused = Promise.reject(new Error("stack s: the fleet configuration is invalid"));
    refused.catch(() => undefined);
    const gatedServer = await startProviderServer(projectRoot, "mps-hotfix", { ready: refused });
    try {
      await expect(read(gatedServer.port)).rejects.toMatchObject({
        details: "stack s: the fleet configuration is invalid",
      });
    } finally {
      await gatedServer.stop();
    }
  });
});
