import Module from "node:module";

/**
 * @pulumi/pulumi's runtime loads its closure serializer when it loads, and with it TypeScript and
 * npm's arborist: about a second of CPU and 55 MiB in every process that loads the SDK (the CLI,
 * each dynamic-provider host), for code that runs only when a function is serialized
 * (`pulumi.dynamic.Resource`, which the product does not use: see providerShim.ts). This puts
 * stand-ins for the two modules in the require cache; the real module loads on the first call.
 * Import it before anything that loads @pulumi/pulumi.
 */
export const deferredClosureModules: Readonly<Record<string, readonly string[]>> = {
  "@pulumi/pulumi/runtime/closure/serializeClosure": ["serializeFunction", "serializeFunctionAsync"],
  "@pulumi/pulumi/runtime/closure/codePaths": ["computeCodePaths", "findWorkspaceRoot"],
};

type Exports = Record<string, (...args: unknown[]) => unknown>;

function defer(file: string, names: readonly string[]): void {
  if (require.cache[file] !== undefined) return;
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  let real: Exports | undefined;
  const load = (): Exports => {
    if (real === undefined) {
      Reflect.deleteProperty(require.cache, file);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      real = require(file) as Exports;
    }
    return real;
  };
  stub.exports = Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => load()[name]!(...args)]));
  require.cache[file] = stub;
}

for (const [request, names] of Object.entries(deferredClosureModules)) defer(require.resolve(request), names);
