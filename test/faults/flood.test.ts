import type { EngineRoute } from "../../components/domain/endpoint";
import { EngineConnection } from "../../components/host/engineConnection";
import { maxAnswerBytes } from "../../components/host/sshSession";
import { Runbook, RunbookError, rotationNotice } from "../../components/runbook/runbook";
import { floodCapBytes } from "../../simulator/flood";
import type { SimulatedFleet } from "../../simulator/server";
import { hostNamed, password, startFleet } from "../simulator/helpers";
import { engineTarget, maintenanceSettings, packageBase64Of, sshEndpoint } from "../support/targets";

/**
 * A host that floods its answer (a script in a loop, or an adversary): the step fails once the
 * answer passes maxAnswerBytes, the command stops reading, and the engine is put back into
 * rotation. The flood's own record says how much the host managed to send before the client closed
 * the channel: far below what it would have sent to a client that read on (floodCapBytes), and the
 * process's resident memory is sampled throughout.
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
function floodedBytes(fleet: SimulatedFleet, engine: string): number {
  const ended = fleet
    .log()
    .filter((r) => r.host === engine && r.detail?.startsWith("fault floodAnswer: the answer ended") === true);
  expect(ended).toHaveLength(1);
  const bytes = /after ([0-9]+) bytes$/.exec(ended[0]!.detail!)?.[1];
  return Number(bytes);
}

describe("a host that floods a step's answer", () => {
  let fleet: SimulatedFleet;
  beforeEach(async () => {
    fleet = await startFleet(
      {
        engines: [
          { name: "MPS01", files: oldDll, faults: { floodAnswer: "shutdown-complus" } },
          { name: "MPS02", ssh: false, files: oldDll, faults: { floodAnswer: "shutdown-complus" } },
        ],
        relays: [{ name: "RELAY01" }],
      },
      { clock: () => new Date() },
    );
  });
  afterEach(() => fleet.stop());

  const routes: Record<string, () => EngineRoute> = {
    direct: () => {
      const host = hostNamed(fleet, "MPS01");
      return { kind: "direct", endpoint: sshEndpoint("MPS01", { host: host.address, port: host.port }) };
    },
    "through a relay": () => {
      const host = hostNamed(fleet, "RELAY01");
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
      const host = fleet.host(engine);
      expect([host.engine, host.complus]).toEqual(["active", "running"]);
      expect(
        fleet
          .log()
          .filter((r) => r.host === engine && r.detail === undefined)
          .map((r) => r.script)
          .slice(-2),
      ).toEqual(["start-complus", "activate-engine"]);

      // The host did flood past the limit, and stopped far short of what a client reading on would take.
      const sent = floodedBytes(fleet, engine);
      expect(sent).toBeGreaterThan(maxAnswerBytes);
      expect(sent).toBeLessThan(64 * 1024 * 1024);
      expect(sent).toBeLessThan(floodCapBytes / 32);
      // What this process held: the client's limit, SSH's windows and both sides' socket buffers and
      // garbage (the simulated host runs in it too, and V8 may leave the flood's chunks uncollected
      // for a while: on Node 22 that peaked near 270 MiB, on 24 under 96). A client that read on
      // would hold the flood itself, up to floodCapBytes (2 GiB).
      expect(growth).toBeLessThan(floodCapBytes / 4);
    },
  );
});
