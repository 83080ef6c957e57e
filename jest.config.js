/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  // End-to-end suites share one local backend and the host's two cores: run files one at a time.
  maxWorkers: 1,
  testTimeout: 120000,
};
