/**
 * The SDK sends the engine a debug line at every step of every resource it registers, one at a
 * time: each waits for the engine's answer to the one before (log/index.js: "Ensure we log
 * everything in serial order"), and the program is done only when the last has been delivered.
 * The engine shows them only at `--debug` or `-v` verbosity, which the product's commands do not
 * ask for. Imported by the commands that host the inline program, this drops them in that process
 * (bench/README.md says what it measured). A plain `pulumi preview` of index.ts keeps the SDK's
 * behaviour.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkLog = require("@pulumi/pulumi/log") as { debug: (...args: unknown[]) => Promise<void> };
sdkLog.debug = () => Promise.resolve();
export {};
