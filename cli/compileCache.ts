import { enableCompileCache } from "node:module";
import { join } from "node:path";

/**
 * Node's module compile cache (Node 22.1 and later,
 * https://nodejs.org/api/module.html#moduleenablecompilecachecachedir): the command's later starts
 * reuse the compiled code of the SDK and its dependencies instead of compiling them again. The
 * same folder the provider host's launcher gives NODE_COMPILE_CACHE (scripts/toolchain.sh); a
 * NODE_COMPILE_CACHE the caller set wins. Imported first by the entry points, so that it covers
 * what they load.
 */
enableCompileCache(process.env["NODE_COMPILE_CACHE"] ?? join(__dirname, "..", "..", ".tools", "node-compile-cache"));
