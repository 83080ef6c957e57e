import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { runSimulatorCli } from "../../simulator/cli";
import { parseFleetFile } from "../../simulator/fleetFile";
import { startSimulatedFleet, type SimulatedHost } from "../../simulator/server";
import {
  answer,
  connect,
  direct,
  fixedClock,
  hostNamed,
  messageOf,
  password,
  run,
  scripts,
  startFleet,
  user,
  execScript,
  scriptLines,
  nextActivity,
  nextStep,
} from "./helpers";

/** Resolves with the socket error code, or "connected" when something listens. */
function tcpProbe(host: SimulatedHost): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: host.address, port: host.port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe("fleet lifecycle", () => {
  test("stop() closes every listener and every open connection", async () => {
    const fleet = await startFleet({
      engines: [
        { name: "MPS01" },
        { name: "MPS02", address: "127.0.10.2", faults: { hangOnScript: "probe" } },
        { name: "MPS03", faults: { hangAfterConnect: true } },
      ],
      relays: [{ name: "RELAY01", address: "127.0.20.1" }],
    });
    expect(fleet.hosts.map((host) => host.address)).toEqual(["127.0.0.1", "127.0.10.2", "127.0.0.1", "127.0.20.1"]);
    for (const host of fleet.hosts) expect(await tcpProbe(host)).toBe("connected");

    const client = await connect(hostNamed(fleet, "MPS02"));
    const hanging = execScript(client, scripts.probe("MPS02"), direct);
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));

    await fleet.stop();
    await closed;
    expect(await hanging).toEqual({ stdout: "", stderr: "", exitCode: null });
    for (const host of fleet.hosts) expect(await tcpProbe(host)).toBe("ECONNREFUSED");
    await fleet.stop();
  });

  test("connections are counted per host and for the fleet", async () => {
    const fleet = await startFleet({ engines: [{ name: "MPS01" }, { name: "MPS02" }] });
    try {
      expect(fleet.connectionCount()).toBe(0);
      await run(hostNamed(fleet, "MPS01"), scripts.start());
      await run(hostNamed(fleet, "MPS01"), scripts.start());
      await run(hostNamed(fleet, "MPS02"), scripts.start());
      expect([fleet.connectionCount("MPS01"), fleet.connectionCount("MPS02"), fleet.connectionCount()]).toEqual([
        2, 1, 3,
      ]);
      expect(() => fleet.connectionCount("MPS09")).toThrow("no simulated SSH host named MPS09");
      expect(() => fleet.host("MPS09")).toThrow("no simulated engine named MPS09");
    } finally {
      await fleet.stop();
    }
  });

  test("a host restart drops the sessions open on it", async () => {
    const fleet = await startFleet({ engines: [{ name: "MPS01", faults: { hangOnScript: "probe" } }] });
    try {
      const client = await connect(hostNamed(fleet, "MPS01"));
      const hanging = execScript(client, scripts.probe("MPS01"), direct);
      fleet.restartHost("MPS01");
      expect(await hanging).toEqual({ stdout: "", stderr: "", exitCode: null });
    } finally {
      await fleet.stop();
    }
  });

  test("out-of-band changes show in the next probe", async () => {
    const fleet = await startFleet({ engines: [{ name: "MPS01", files: { "Mapsproccntl.dll": "13.3.609.1" } }] });
    try {
      fleet.alter("MPS01", { files: { "Mapsproccntl.dll": "13.3.600.0" }, engine: "deactivated", complus: "stopped" });
      expect(await run(hostNamed(fleet, "MPS01"), scripts.probe("MPS01"))).toEqual(
        answer([
          "file:Mapsproccntl.dll=13.3.600.0",
          "engine=deactivated",
          "complus.instances=0",
          "complus=stopped",
          "renames=0",
          "exit=0",
        ]),
      );
      fleet.alter("MPS01", { files: { "Mapsproccntl.dll": null } });
      expect(scriptLines(await run(hostNamed(fleet, "MPS01"), scripts.probe("MPS01")))[0]).toBe(
        "file:Mapsproccntl.dll=missing",
      );
      expect(() => fleet.alter("MPS01", { files: { "Mapsproccntl.dll": "13.3" } })).toThrow(
        "MPS01: Mapsproccntl.dll version 13.3 is not a file version",
      );
    } finally {
      await fleet.stop();
    }
  });

  test("step delays hold each answer back; the options override the fleet file", async () => {
    const fleet = await startFleet(
      { engines: [{ name: "MPS01" }], stepDelaysMs: { default: 0, "start-complus": 1000 } },
      { stepDelaysMs: { "start-complus": 250 } },
    );
    try {
      const started = Date.now();
      expect(await run(hostNamed(fleet, "MPS01"), scripts.start())).toEqual(
        answer(["complus.instances=1", "complus=running", "exit=0"]),
      );
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1000);
    } finally {
      await fleet.stop();
    }
  });

  test("a client that leaves during a step delay: the step does not complete", async () => {
    const fleet = await startFleet({ engines: [{ name: "MPS01" }], stepDelaysMs: { "deactivate-engine": 300 } });
    try {
      const client = await connect(hostNamed(fleet, "MPS01"));
      const delayStarted = nextActivity(fleet, "script-started", (activity) => activity.script === "deactivate-engine");
      const delayOver = nextStep(fleet, (step) => step.script === "deactivate-engine");
      const pending = execScript(client, scripts.deactivate("MPS01"), direct);
      await delayStarted;
      client.end();
      expect(await pending).toEqual({ stdout: "", stderr: "", exitCode: null });
      await delayOver;
      expect(fleet.host("MPS01").engine).toBe("active");
      expect(fleet.log().map(({ script, detail }) => [script, detail])).toEqual([
        ["connect", undefined],
        ["deactivate-engine", "the client disconnected before the script finished; it did not complete"],
      ]);
    } finally {
      await fleet.stop();
    }
  });

  test("a port already in use fails the start, naming the host, and leaves nothing listening", async () => {
    const first = await startFleet({ engines: [{ name: "MPS01" }] });
    try {
      const port = hostNamed(first, "MPS01").port;
      const clash = parseFleetFile({
        credentials: { user, password },
        engines: [
          { name: "MPS02", address: "127.0.10.9", port },
          { name: "MPS03", port },
        ],
      });
      const error = await startSimulatedFleet(clash, { clock: fixedClock }).then(
        () => "started",
        (failure: unknown) => messageOf(failure),
      );
      expect(error).toBe(
        `MPS03: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
      );
      expect(await tcpProbe({ name: "MPS02", kind: "engine", address: "127.0.10.9", port, hostKeySha256: "" })).toBe(
        "ECONNREFUSED",
      );
    } finally {
      await first.stop();
    }
  });

  test("the command: prints each host with its key, streams steps as JSON lines, stops cleanly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "simulator-cli-"));
    try {
      const fleetPath = join(dir, "fleet.yaml");
      const logPath = join(dir, "steps.jsonl");
      writeFileSync(
        fleetPath,
        [
          `credentials: { user: ${user}, password: ${password} }`,
          "engines:",
          "  - name: MPS01",
          "  - name: MPS05",
          "    ssh: false",
          "relays:",
          "  - name: RELAY01",
        ].join("\n"),
      );
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let printed = "";
      stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
      const { stop } = await runSimulatorCli(["--fleet", fleetPath, "--log", logPath], { stdout, stderr });

      const lines = printed.trimEnd().split("\n");
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^MPS01    engine  127\.0\.0\.1:\d+ +SHA256:[A-Za-z0-9+/]{43}$/);
      expect(lines[1]).toMatch(/^RELAY01  relay   127\.0\.0\.1:\d+ +SHA256:[A-Za-z0-9+/]{43}$/);
      expect(lines[2]).toBe("MPS05    engine  (no SSH; reached through a relay as MPS05)");

      const [, address = "", port = "", hostKeySha256 = ""] =
        /^MPS01 +engine +([0-9.]+):(\d+) +(\S+)$/.exec(lines[0] ?? "") ?? [];
      const host: SimulatedHost = { name: "MPS01", kind: "engine", address, port: Number(port), hostKeySha256 };
      expect(await run(host, scripts.start())).toEqual(answer(["complus.instances=1", "complus=running", "exit=0"]));
      await stop();

      const records = readFileSync(logPath, "utf8")
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as { seq: number; host: string; script: string; exitCode?: number });
      expect(records.map(({ seq, host: name, script, exitCode }) => ({ seq, name, script, exitCode }))).toEqual([
        { seq: 1, name: "MPS01", script: "connect", exitCode: undefined },
        { seq: 2, name: "MPS01", script: "start-complus", exitCode: 0 },
      ]);
      expect(
        await connect(host).then(
          () => "connected",
          (error: unknown) => messageOf(error),
        ),
      ).toBe(`connect ECONNREFUSED ${address}:${port}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the command: a step log that fails to write stops, said once on stderr, and the fleet serves on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "simulator-cli-"));
    try {
      const fleetPath = join(dir, "fleet.yaml");
      writeFileSync(
        fleetPath,
        [`credentials: { user: ${user}, password: ${password} }`, "engines:", "  - name: MPS01"].join("\n"),
      );
      let printed = "";
      // A reader of the step log that went away: the host table is taken, every step line fails.
      const stdout = new Writable({
        write(chunk: Buffer, _encoding, done) {
          const text = chunk.toString();
          if (text.startsWith("{")) {
            done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
            return;
          }
          printed += text;
          done();
        },
      });
      const stderr = new PassThrough();
      let warned = "";
      stderr.on("data", (chunk: Buffer) => (warned += chunk.toString()));
      const { stop } = await runSimulatorCli(["--fleet", fleetPath], { stdout, stderr });
      const [, address = "", port = "", hostKeySha256 = ""] =
        /^MPS01 +engine +([0-9.]+):(\d+) +(\S+)$/.exec(printed.trimEnd()) ?? [];
      const host: SimulatedHost = { name: "MPS01", kind: "engine", address, port: Number(port), hostKeySha256 };
      const stopped = new Promise<void>((resolve) => stdout.once("error", () => resolve()));
      await run(host, scripts.start());
      await stopped;
      expect(await run(host, scripts.start())).toEqual(answer(["complus.instances=1", "complus=running", "exit=0"]));
      await stop();
      expect(warned).toBe(
        [
          "simulated fleet running; step log to stdout; stop with Ctrl-C",
          "the step log stopped: write EPIPE; the simulated fleet keeps running",
          "",
        ].join("\n"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the command refuses a missing --fleet", async () => {
    const sink = new PassThrough();
    await expect(runSimulatorCli(["--log", "x.jsonl"], { stdout: sink, stderr: sink })).rejects.toThrow(
      "--fleet is required\nusage: node dist/simulator/cli.js --fleet <fleet.yaml> [--log <steps.jsonl>]",
    );
  });
});
