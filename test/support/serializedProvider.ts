/**
 * What `pulumi.dynamic.Resource` stored as a resource's `__provider`: the SDK's serialization of
 * serializedProviders.ts, which loads the handlers by package name in the provider host and so
 * stays small (the handlers themselves are not serialized).
 */
export function expectHandlersByPackage(serialized: unknown): void {
  expect(typeof serialized).toBe("string");
  const text = serialized as string;
  expect(text).toContain('("mps-hotfix/provider")');
  expect(text.length).toBeLessThan(3000);
  // Nothing of the handlers' own modules (the runbook, the SSH transport) is in it.
  expect(text).not.toMatch(/ssh2|Runbook|EngineConnection/);
}
