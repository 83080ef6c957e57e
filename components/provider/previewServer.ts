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

/**
 * The dynamic provider served from the calling process, for previews: the engine attaches to it
 * (PULUMI_DEBUG_PROVIDERS, see workspace.ts) instead of starting a provider host, a node process
 * that loads the SDK and the handlers again. A preview calls check, diff and read only, so that is
 * all it serves; create, update and delete answer UNIMPLEMENTED, as any method the SDK's host
 * does not implement. Requests and answers are those of the SDK's host
 * (@pulumi/pulumi/cmd/dynamic-provider): secrets unwrapped, `__provider` carried along.
 */

type Props = Record<string, JavaScriptValue>;
type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

const providerKey = "__provider";
/** The handlers a `__provider` text loads (providerShim.ts, and release 0.1's shim alike). */
const handlersName = /\("mps-hotfix\/provider"\)\.(\w+)/;

type HandlerModule = { readonly onInterrupt: () => void } & Readonly<
  Record<string, pulumi.dynamic.ResourceProvider | undefined>
>;

export interface PreviewServer {
  readonly port: number;
  stop(): void;
}

function answer<Res>(callback: grpc.sendUnaryData<Res>, work: () => Promise<Res>): void {
  work().then(
    (response) => callback(null, response),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      callback({ code: grpc.status.UNKNOWN, details: message, message });
    },
  );
}

/**
 * Serves the dynamic provider of the project at `projectDir` on a free port of 127.0.0.1. Its
 * handlers are loaded and run only once `ready` resolves; after it rejects, every call fails.
 */
export async function startPreviewServer(
  projectDir: string,
  projectName: string,
  ready: Promise<unknown> = Promise.resolve(),
): Promise<PreviewServer> {
  const handlerModule = (): HandlerModule => {
    const module = createRequire(join(projectDir, "package.json"))("mps-hotfix/provider") as HandlerModule;
    // Ctrl-C is the calling process's to handle (the CLI waits for the engine); a preview runs no runbook.
    process.off("SIGINT", module.onInterrupt);
    return module;
  };
  let config: Props = {};
  const configured = new Map<string, Promise<pulumi.dynamic.ResourceProvider>>();

  const providerOf = async (props: Props): Promise<pulumi.dynamic.ResourceProvider> => {
    await ready;
    const source = props[providerKey];
    const name = typeof source === "string" ? handlersName.exec(source)?.[1] : undefined;
    if (name === undefined) throw new Error(`not a provider of mps-hotfix: ${JSON.stringify(source)}`);
    let handlers = configured.get(name);
    if (handlers === undefined) {
      const loaded = handlerModule()[name];
      if (loaded === undefined) throw new Error(`mps-hotfix/provider has no ${name}`);
      const req = { config: new Config(config, projectName) };
      handlers = (loaded.configure?.(req) ?? Promise.resolve()).then(() => loaded);
      configured.set(name, handlers);
    }
    return handlers;
  };
  const newsOrOlds = (olds: Props, news: Props): Props => (news[providerKey] === unknownValue ? olds : news);

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
      const inputs: Props = {
        ...((result.inputs as Props | undefined) ?? news),
        [providerKey]: news[providerKey] ?? null,
      };
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
      const carried: Props = { [providerKey]: props[providerKey] ?? null };
      response.setId(result.id ?? id);
      response.setProperties(Struct.fromJavaScript({ ...(result.props as Props | undefined), ...carried }));
      if (result.inputs !== undefined) {
        response.setInputs(Struct.fromJavaScript({ ...(result.inputs as Props), ...carried }));
      }
      return response;
    });

  const getPluginInfo: Unary<Empty, PluginInfo> = (_call, callback) =>
    callback(null, new PluginInfo().setVersion(version));
  const cancel: Unary<Empty, Empty> = (_call, callback) => callback(null, new Empty());
  // The engine's greeting to a provider it attached to: the handlers log to stderr, not to the engine.
  const attach: Unary<PluginAttach, Empty> = (_call, callback) => callback(null, new Empty());

  // The SDK's limit on a message (its grpcChannelOptions are internal).
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(ResourceProviderService, { configure, check, diff, read, getPluginInfo, cancel, attach });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { port, stop: () => server.forceShutdown() };
}
