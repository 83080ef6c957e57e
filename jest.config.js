/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  // End-to-end suites share one local backend and the host's two cores: run files one at a time.
  maxWorkers: 1,
  // The library example imports the package by name, as another program would.
  moduleNameMapper: { "^mps-hotfix$": "<rootDir>/components/index.ts" },
  testTimeout: 120000,
};
