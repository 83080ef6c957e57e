import { createRequire } from "node:module";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type * as pulumi from "@pulumi/pulumi";
import { Config } from "@pulumi/pulumi/cmd/dynamic-provider/config";
import { PluginAttach, PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import { ResourceProviderService } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as rpc from "@pulumi/pulumi/proto/provider_pb";
import { unknownValue, unwrapRpcSecret } from "@pulumi/pulumi/runtime/rpc";
import { version } from "@pulumi/pulumi/version";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { EngineLog } from "./engineLog";
import { failureOf } from "./providerFailure";

/**
 * The dynamic provider served from the calling process: the engine attaches to it
 * (PULUMI_DEBUG_PROVIDERS, see workspace.ts) instead of starting a provider host, a node process
 * that loads the SDK and the handlers again (a third of a second before the first call). It
 * serves what the SDK's host serves (@pulumi/pulumi/cmd/dynamic-provider), with the same requests
 * and answers: secrets unwrapped, `__provider` carried along, a failed create or update that
 * carries an id and properties answered as "created, but failed to initialize". Any other method
 * answers UNIMPLEMENTED, as the SDK's host does.
 *
 * The handlers' lines go to the engine's log once the engine has attached (it says where it
 * listens), so they appear in the engine's output as a host's stderr would. The handlers are
 * loaded and run only once `ready` resolves; after it rejects, every call fails.
 */

type Props = Record<string, JavaScriptValue>;
type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

const providerKey = "__provider";
/** The handlers a `__provider` text loads (providerShim.ts, and release 0.1's shim alike). */
const handlersName = /\("mps-hotfix\/provider"\)\.(\w+)/;

type HandlerModule = {
  readonly onInterrupt: () => void;
  readonly interruptRunbooks: () => readonly string[];
  readonly sendLinesTo: (sink: ((line: string) => void) | undefined) => void;
} & Readonly<Record<string, pulumi.dynamic.ResourceProvider | undefined>>;

/** The handlers this process serves, once a server has loaded them. */
let servedHandlers: HandlerModule | undefined;

/**
 * The operator's second Ctrl-C: each runbook under way in this process stops after its current
 * step and puts its engine back into rotation. Returns the engines whose runbook is under way.
 */
export function interruptServedRunbooks(): readonly string[] {
  return servedHandlers?.interruptRunbooks() ?? [];
}

export interface ProviderServer {
  readonly port: number;
  /** Stops serving once every line the handlers wrote has reached the engine. */
  stop(): Promise<void>;
}

export interface ProviderServerOptions {
  readonly ready?: Promise<unknown>;
}

/** Serves the dynamic provider of the project at `projectDir` on a free port of 127.0.0.1. */
export async function startProviderServer(
  projectDir: string,
  projectName: string,
  options: ProviderServerOptions = {},
): Promise<ProviderServer> {
  const ready = options.ready ?? Promise.resolve();
  const engineLog = new EngineLog();
  // The lines a call wrote reach the engine before its answer does, so the engine shows them
  // with the step they belong to, and none is left behind when the engine ends.
  const answer = <Res>(callback: grpc.sendUnaryData<Res>, work: () => Promise<Res>): void => {
    work()
      .then(
        async (response) => {
          await engineLog.sent();
          callback(null, response);
        },
        async (error: unknown) => {
          await engineLog.sent();
          const failure = failureOf(error);
          callback(failure, null, failure.metadata);
        },
      )
      .catch((error: unknown) => console.error(error));
  };
  let handlers: HandlerModule | undefined;
  const handlerModule = (): HandlerModule => {
    if (handlers !== undefined) return handlers;
    handlers = createRequire(join(projectDir, "package.json"))("mps-hotfix/provider") as HandlerModule;
    servedHandlers = handlers;
    // Ctrl-C is this process's to handle (the CLI waits for the engine, which lets the steps under
    // way finish, as with a provider host in its own process group; interruptServedRunbooks).
    process.off("SIGINT", handlers.onInterrupt);
    handlers.sendLinesTo((line) => engineLog.write(line));
    return handlers;
  };
  let config: Props = {};
  const configured = new Map<string, Promise<pulumi.dynamic.ResourceProvider>>();

  const providerOf = async (props: Props): Promise<pulumi.dynamic.ResourceProvider> => {
    await ready;
    const source = props[providerKey];
    const name = typeof source === "string" ? handlersName.exec(source)?.[1] : undefined;
    if (name === undefined) throw new Error(`not a provider of mps-hotfix: ${JSON.stringify(source)}`);
    let provider = configured.get(name);
    if (provider === undefined) {
      const loaded = handlerModule()[name];
      if (loaded === undefined) throw new Error(`mps-hotfix/provider has no ${name}`);
      const req = { config: new Config(config, projectName) };
      provider = (loaded.configure?.(req) ?? Promise.resolve()).then(() => loaded);
      configured.set(name, provider);
    }
    return provider;
  };
  const newsOrOlds = (olds: Props, news: Props): Props => (news[providerKey] === unknownValue ? olds : news);
  const withProvider = (result: unknown, props: Props): Props => ({
    ...(result as Props | undefined),
    [providerKey]: props[providerKey] ?? null,
  });

  const configure: Unary<rpc.ConfigureRequest, rpc.ConfigureResponse> = (call, callback) => {
    const args = call.request.getArgs()?.toJavaScript() ?? {};
    config = Object.fromEntries(
      Object.entries(args)
        .filter(([key]) => key !== providerKey)
        .map(([key, value]) => [key, unwrapRpcSecret(value) as JavaScriptValue]),
    );
    configured.clear();
    callback(null, new rpc.ConfigureResponse().setAcceptsecrets(false));
  };

  const check: Unary<rpc.CheckRequest, rpc.CheckResponse> = (call, callback) =>
    answer(callback, async () => {
      const olds = call.request.getOlds()?.toJavaScript() ?? {};
      const news = call.request.getNews()?.toJavaScript() ?? {};
      const provider = await providerOf(newsOrOlds(olds, news));
      const result = provider.check ? await provider.check(olds, news) : { inputs: news };
      const inputs = withProvider(result.inputs ?? news, news);
      const response = new rpc.CheckResponse().setInputs(Struct.fromJavaScript(inputs));
      for (const failure of result.failures ?? []) {
        response.addFailures(new rpc.CheckFailure().setProperty(failure.property).setReason(failure.reason));
      }
      return response;
    });

  const diff: Unary<rpc.DiffRequest, rpc.DiffResponse> = (call, callback) =>
    answer(callback, async () => {
      const olds = call.request.getOlds()?.toJavaScript() ?? {};
      const news = call.request.getNews()?.toJavaScript() ?? {};
      const provider = await providerOf(newsOrOlds(olds, news));
      const response = new rpc.DiffResponse();
      if (!provider.diff) return response;
      const result = await provider.diff(call.request.getId(), olds, news);
      const { DIFF_SOME, DIFF_NONE, DIFF_UNKNOWN } = rpc.DiffResponse.DiffChanges;
      response.setChanges(result.changes === true ? DIFF_SOME : result.changes === false ? DIFF_NONE : DIFF_UNKNOWN);
      if (result.replaces !== undefined && result.replaces.length > 0) response.setReplacesList(result.replaces);
      if (result.deleteBeforeReplace === true) response.setDeletebeforereplace(true);
      return response;
    });

  const read: Unary<rpc.ReadRequest, rpc.ReadResponse> = (call, callback) =>
    answer(callback, async () => {
      const id = call.request.getId();
      const props = call.request.getProperties()?.toJavaScript() ?? {};
      const provider = await providerOf(props);
      const response = new rpc.ReadResponse();
      if (!provider.read) return response.setId(id).setProperties(call.request.getProperties());
      const result = await provider.read(id, props);
      response.setId(result.id ?? id);
      response.setProperties(Struct.fromJavaScript(withProvider(result.props, props)));
      if (result.inputs !== undefined) response.setInputs(Struct.fromJavaScript(withProvider(result.inputs, props)));
      return response;
    });

  const create: Unary<rpc.CreateRequest, rpc.CreateResponse> = (call, callback) =>
    answer(callback, async () => {
      const props = call.request.getProperties()?.toJavaScript() ?? {};
      const provider = await providerOf(props);
      const result = await provider.create(props);
      return new rpc.CreateResponse()
        .setId(result.id)
        .setProperties(Struct.fromJavaScript(withProvider(result.outs, props)));
    });

  const update: Unary<rpc.UpdateRequest, rpc.UpdateResponse> = (call, callback) =>
    answer(callback, async () => {
      const olds = call.request.getOlds()?.toJavaScript() ?? {};
      const news = call.request.getNews()?.toJavaScript() ?? {};
      const provider = await providerOf(news);
      const result = provider.update ? await provider.update(call.request.getId(), olds, news) : {};
      return new rpc.UpdateResponse().setProperties(Struct.fromJavaScript(withProvider(result.outs, news)));
    });

  const remove: Unary<rpc.DeleteRequest, Empty> = (call, callback) =>
    answer(callback, async () => {
      const props = call.request.getProperties()?.toJavaScript() ?? {};
      const provider = await providerOf(props);
      if (provider.delete) await provider.delete(call.request.getId(), props);
      return new Empty();
    });

  const getPluginInfo: Unary<Empty, PluginInfo> = (_call, callback) =>
    callback(null, new PluginInfo().setVersion(version));
  // As the SDK's host: a cancelled update lets the operations under way finish.
  const cancel: Unary<Empty, Empty> = (_call, callback) => callback(null, new Empty());
  // The engine's greeting to a provider it attached to: where its log listens.
  const attach: Unary<PluginAttach, Empty> = (call, callback) => {
    engineLog.connect(call.request.getAddress());
    callback(null, new Empty());
  };

  // The SDK's limit on a message (its grpcChannelOptions are internal).
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(ResourceProviderService, {
    configure,
    check,
    diff,
    read,
    create,
    update,
    delete: remove,
    getPluginInfo,
    cancel,
    attach,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    stop: async () => {
      server.forceShutdown();
      handlers?.sendLinesTo(undefined);
      await engineLog.close();
    },
  };
}
