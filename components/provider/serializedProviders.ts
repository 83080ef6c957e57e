import type * as pulumi from "@pulumi/pulumi";

/**
 * The provider objects `pulumi.dynamic.Resource` serializes into each resource's `__provider`.
 * The SDK's closure serializer captures a function's whole reachable scope, so these hold no
 * handler code: each method loads the real handlers in the dynamic-provider host by package
 * self-reference (`mps-hotfix/provider`, package.json "exports"), resolved from the project
 * directory the engine starts the host in. The serialized text stays under 3 KB a resource, and the
 * SDK serializes each object once per process (dynamic/index.js keeps a cache keyed by the
 * provider object, "caching is enabled by default as of 3.0"), so these are module constants.
 * Only functions, plain values and `require` may be referenced in here: see
 * https://www.pulumi.com/docs/iac/concepts/functions/function-serialization/ for what the
 * serializer captures.
 */

type HandlerName = "provider" | "rolloutResultProvider";

/*
 * The serializer keeps each function's text, comments included, in every resource's state
 * (twice: inputs and outputs), so the functions below carry none; `require` is what the host's
 * module text has (requireFromString), hence the lint exception.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
function providerLoading(name: HandlerName): pulumi.dynamic.ResourceProvider {
  const handlers = (): pulumi.dynamic.ResourceProvider => {
    const dir = process.cwd();
    try {
      const nodeModule = require("node:module") as typeof import("node:module");
      const loaded = nodeModule.createRequire(`${dir}/package.json`)("mps-hotfix/provider") as Record<
        HandlerName,
        pulumi.dynamic.ResourceProvider
      >;
      return loaded[name];
    } catch (e) {
      throw new Error(
        `mps-hotfix: cannot load the dynamic provider's handlers (mps-hotfix/provider) from ${dir}: run npm run build there first (${(e as Error).message})`,
      );
    }
  };
  return {
    configure: async (req) => handlers().configure?.(req),
    check: async (olds, news) => handlers().check?.(olds, news) ?? { inputs: news as Record<string, unknown> },
    diff: async (id, olds, news) => handlers().diff?.(id, olds, news) ?? {},
    create: async (inputs) => handlers().create(inputs),
    read: async (id, props) => handlers().read?.(id, props) ?? { id, props: props as Record<string, unknown> },
    update: async (id, olds, news) => handlers().update?.(id, olds, news) ?? {},
    delete: async (id, props) => handlers().delete?.(id, props),
  };
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** EngineHotfixes' provider: the handlers of hotfixProvider.ts. */
export const engineHotfixesProvider = providerLoading("provider");
/** RolloutResult's provider: the handlers of rolloutResultProvider.ts. */
export const rolloutResultProvider = providerLoading("rolloutResultProvider");
