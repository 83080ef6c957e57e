import type { EngineRoute } from "../../components/domain/endpoint";
import { EngineConnection } from "../../components/host/engineConnection";
import { maxAnswerBytes } from "../../components/host/sshSession";
import { Runbook } from "../../components/runbook/runbook";
import { RunbookError } from "../../components/runbook/runbookError";
import { rotationNotice } from "../../components/runbook/operatorMessages";
import { floodCapBytes } from "../../simulator/flood";
import type { SimulatedHost } from "../../simulator/server";
import { password, run, scripts, scriptLines, user, via } from "../simulator/helpers";
import { startFleetProcess, type FleetProcess } from "../support/fleetProcess";
import { engineTarget, maintenanceSettings, packageBase64Of, sshEndpoint } from "../support/targets";

/**
 * A host that floods its answer (a script in a loop, or an adversary): the step fails once the
 * answer passes maxAnswerBytes, the command stops reading, and the engine is put back into
 * rotation. The flood's own record says how much the host managed to send before the client closed
 * the channel: far below what it would have sent to a client that read on (floodCapBytes), and the
 * process's resident memory is sampled throughout. The flooding hosts run in a process of their own,
 * as a real host would, so what this process holds is the client's alone.
 */

const oldDll = { "Mapsproccntl.dll": "13.3.600.0" };

/** The resident set size, sampled every few milliseconds while `run` runs: its peak above the start. */
async function peakRssGrowth(run: () => Promise<unknown>): Promise<{ value: unknown; growth: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  try {
    const value = await run().catch((error: unknown) => error);
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, growth: peak - start };
  } finally {
    clearInterval(sampler);
  }
}

/** The bytes the flooding host sent before its answer ended, from its record in the step log. */
async function floodedBytes(fleet: FleetProcess, engine: string): Promise<number> {
  const isEnd = (line: string): boolean =>
    line.includes(`"host":"${engine}"`) && line.includes("fault floodAnswer: the answer ended");
  const recorded = () =>
    fleet.records().filter((r) => r.host === engine && r.detail?.startsWith("fault floodAnswer: the answer ended"));
  if (recorded().length === 0) await fleet.nextLine(isEnd);
  const ended = recorded();
  expect(ended).toHaveLength(1);
  const bytes = /after ([0-9]+) bytes$/.exec(ended[0]!.detail!)?.[1];
  return Number(bytes);
}

describe("a host that floods a step's answer", () => {
  let fleet: FleetProcess;
  beforeEach(async () => {
    const dll = `{ Mapsproccntl.dll: ${oldDll["Mapsproccntl.dll"]} }`;
    fleet = await startFleetProcess(
      [
        `credentials: { user: ${user}, password: ${password} }`,
        "engines:",
        `  - { name: MPS01, files: ${dll}, faults: { floodAnswer: shutdown-complus } }`,
        `  - { name: MPS02, ssh: false, files: ${dll}, faults: { floodAnswer: shutdown-complus } }`,
        "relays:",
        "  - { name: RELAY01 }",
        "",
      ].join("\n"),
    );
  });
  afterEach(() => fleet.stop());
  const hostNamed = (name: string): SimulatedHost => {
    const host = fleet.hosts.find((h) => h.name === name);
    if (host === undefined) throw new Error(`the simulator printed no host ${name}`);
    return host;
  };

  const routes: Record<string, () => EngineRoute> = {
    direct: () => {
      const host = hostNamed("MPS01");
      return { kind: "direct", endpoint: sshEndpoint("MPS01", { host: host.address, port: host.port }) };
    },
    "through a relay": () => {
      const host = hostNamed("RELAY01");
      return {
        kind: "relay",
        relay: sshEndpoint("RELAY01", { host: host.address, port: host.port }),
        engineHost: "MPS02",
      };
    },
  };

  test.each(Object.keys(routes))(
    "%s: shutdown-complus fails, the engine is back in rotation, and memory stays bounded",
    async (route) => {
      const engine = route === "direct" ? "MPS01" : "MPS02";
      const target = engineTarget({ engine, route: routes[route]!() });
      const connection = new EngineConnection(engine, target.route, () => ({ password }), {
        connectTimeoutMs: 5000,
        connectAttempts: 1,
        connectRetryDelayMs: 0,
      });
      const runbook = new Runbook(target, {
        runner: connection,
        settings: maintenanceSettings({ stepTimeoutSeconds: 120 }),
        packageBase64: packageBase64Of,
      });
      const { value: failure, growth } = await peakRssGrowth(() => runbook.converge());
      connection.close();

      expect(failure).toBeInstanceOf(RunbookError);
      const error = failure as RunbookError;
      expect(error.step).toBe("shutdown-complus");
      expect(error.rotation).toBe("restored");
      expect(error.reason).toContain(
        `answered more than ${maxAnswerBytes} bytes (the limit of a step's answer); the step was stopped and its answer dropped`,
      );
      expect(rotationNotice(error)).toBe(
        `engine ${engine} is back in rotation (COM+ application started, engine activated)`,
      );
      // The engine answers a probe as back in rotation, and the last steps were the runbook's own.
      const probe =
        route === "direct"
          ? await run(hostNamed("MPS01"), scripts.probe(engine))
          : await run(hostNamed("RELAY01"), scripts.probe(engine), via(engine));
      expect(scriptLines(probe)).toEqual(expect.arrayContaining(["engine=active", "complus=running"]));
      // The fleet prints its records in order: once the probe's is in, every earlier one is.
      const probed = (r: { host: string; script: string }): boolean => r.host === engine && r.script === "probe";
      if (!fleet.records().some(probed))
        await fleet.nextLine(
          (line) => line.startsWith("{") && probed(JSON.parse(line) as { host: string; script: string }),
        );
      expect(
        fleet
          .records()
          .filter((r) => r.host === engine && r.detail === undefined && !["connect", "probe"].includes(r.script))
          .map((r) => r.script)
          .slice(-2),
      ).toEqual(["start-complus", "activate-engine"]);

      // The host did flood past the limit, and stopped far short of what a client reading on would take.
      const sent = await floodedBytes(fleet, engine);
      expect(sent).toBeGreaterThan(maxAnswerBytes);
      expect(sent).toBeLessThan(64 * 1024 * 1024);
      expect(sent).toBeLessThan(floodCapBytes / 32);
      // What this process held: the client's limit, SSH's window and socket buffers, and the
      // garbage of what it read (a few MiB on Node 22 and 24). A client that read on would hold the
      // flood itself, up to floodCapBytes (2 GiB).
      expect(growth).toBeLessThan(16 * maxAnswerBytes);
    },
  );
});
