describe("the SDK's debug lines in a process hosting the inline program", () => {
  it("are dropped, while the SDK's other log levels are left as they are", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdkLog = require("@pulumi/pulumi/log") as Record<"debug" | "info" | "warn" | "error", unknown>;
    const before = { ...sdkLog };
    await import("../../cli/sdkDebugLines");
    expect(sdkLog.debug).not.toBe(before.debug);
    await expect((sdkLog.debug as (message: string) => Promise<void>)("Registering resource")).resolves.toBeUndefined();
    expect({ info: sdkLog.info, warn: sdkLog.warn, error: sdkLog.error }).toEqual({
      info: before.info,
      warn: before.warn,
      error: before.error,
    });
  });
});
