import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findAnsible } from "../../bench/ansible";
import { parseOptions } from "../../bench/options";

describe("the bench's options", () => {
  test("defaults: every size, both maxUnavailable, Ansible where installed", () => {
    expect(parseOptions([])).toEqual({
      sizes: [1, 10, 50, 200],
      stepDelayMs: 20,
      maxUnavailable: [1, 10],
      runs: 3,
      cpuProfDir: undefined,
      engineEnv: {},
      ansible: true,
    });
  });

  test("a value after = or as the next argument", () => {
    expect(parseOptions(["--sizes", "1,10"]).sizes).toEqual([1, 10]);
    expect(parseOptions(["--sizes=1,10", "--runs", "1"])).toMatchObject({ sizes: [1, 10], runs: 1 });
    expect(parseOptions(["--engine-env", "PULUMI_PARALLEL=32"]).engineEnv).toEqual({ PULUMI_PARALLEL: "32" });
  });

  test("--no-ansible leaves Ansible out", () => {
    expect(parseOptions(["--no-ansible"]).ansible).toBe(false);
  });

  test("refuses what it does not know rather than ignoring it", () => {
    expect(() => parseOptions(["--size=1"])).toThrow(/unknown argument --size=1/);
    expect(() => parseOptions(["1,10"])).toThrow(/unknown argument 1,10/);
    expect(() => parseOptions(["--sizes"])).toThrow(/--sizes takes a value/);
    expect(() => parseOptions(["--sizes", "0"])).toThrow(/positive integers/);
  });
});

describe("findAnsible", () => {
  const path = process.env["PATH"];
  afterEach(() => {
    process.env["PATH"] = path;
  });

  test("names what is missing and how to install it; the bench installs nothing", () => {
    process.env["PATH"] = mkdtempSync(join(tmpdir(), "mps-hotfix-test-empty-path-"));
    expect(findAnsible()).toEqual({
      available: false,
      missing: ["ansible-playbook", "sshpass", "ssh"],
      install: "apt-get install ansible-core sshpass",
    });
  });
});
