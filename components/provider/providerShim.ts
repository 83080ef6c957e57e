/**
 * The `__provider` property of every HotfixOnEngine: module text that Pulumi's dynamic-provider
 * host evaluates (require-from-string, then `handler()`) to obtain the resource's handlers.
 * `pulumi.dynamic.Resource` would serialize a provider object's closures instead: about 2.4 KB
 * per resource, kept twice in state (inputs and outputs) and re-serialized with every checkpoint,
 * and the serializer loads the V8 inspector and TypeScript into the program's process. This text
 * loads the handlers by package name in the host process, which the engine starts in the project
 * directory (`mps-hotfix/provider` resolves through package.json "exports", or from node_modules
 * when the package is used as a library).
 */
export function providerSourceFor(handlers: "provider" | "rolloutResultProvider"): string {
  return (
    'exports.handler = () => { const dir = process.cwd(); try { return require("node:module")' +
    `.createRequire(require("node:path").join(dir, "package.json"))("mps-hotfix/provider").${handlers}; } catch (e) {` +
    ' throw new Error("mps-hotfix: cannot load the dynamic provider\'s handlers (mps-hotfix/provider) from " + dir +' +
    ' ": run npm run build there first (" + e.message + ")"); } };\n'
  );
}

/** The handlers of EngineHotfixes. */
export const providerSource = providerSourceFor("provider");
