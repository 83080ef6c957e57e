import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

type Handlers = typeof import("./hotfixProvider");

/**
 * Pulumi serializes a dynamic provider's functions into the state of every resource and runs
 * them in a separate host process. Serializing the product's modules by value would copy all of
 * them into every resource; instead these few functions load the handlers by package name in the
 * host process, which the engine starts in the project directory (`mps-hotfix/provider` resolves
 * through package.json "exports", or from node_modules when the package is used as a library).
 */
function handlers(): Handlers {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createRequire } = require("node:module") as typeof import("node:module");
  return createRequire(path.join(process.cwd(), "package.json"))("mps-hotfix/provider") as Handlers;
}

export const hotfixProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => handlers().check(olds, news),
  diff: (id, olds, news) => handlers().diff(id, olds, news),
  create: (inputs) => handlers().create(inputs),
  update: (id, olds, news) => handlers().update(id, olds, news),
  read: (id, props) => handlers().read(id, props),
  delete: () => handlers().remove(),
};
