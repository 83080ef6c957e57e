import type { EngineRoute } from "../../components/domain/endpoint";
import { maxAnswerBytes } from "../../components/host/sshSession";
import { floodCapBytes } from "../../simulator/flood";
import type { SimulatedHost } from "../../simulator/server";
import { password, run, scripts, scriptLines, user, via } from "../simulator/helpers";
import { startFleetProcess, type FleetProcess } from "../support/fleetProcess";
import { engineTarget, kb952089, maintenanceSettings, packageBase64Of, sshEndpoint } from "../support/targets";
import { convergeInOwnProcess } from "./maintenanceProcess";

/**
 * A host that floods its answer (a script in a loop, or an adversary): the step fails once the
 * answer passes maxAnswerBytes, the command stops reading, and the engine is put back into
 * rotation. The flood's own record says how much the host managed to send before the client closed
 * the channel: far below what it would have sent to a client that read on (floodCapBytes). The
 * maintenance runs in a process of its own, which reports its peak resident memory, and the
 * flooding hosts in another, as a real host would: what the one measured holds is the client's alone.
 */

const oldDll = { "Mapsproccntl.dll": "13.3.600.0" };

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
      const outcome = await convergeInOwnProcess({
        target,
        settings: maintenanceSettings({ stepTimeoutSeconds: 120 }),
        packageBase64: packageBase64Of({ hotfix: kb952089.id }),
        password,
      });

      expect(outcome).toMatchObject({
        ended: "failed",
        step: "shutdown-complus",
        rotation: "restored",
        notice: `engine ${engine} is back in rotation (COM+ application started, engine activated)`,
      });
      expect(outcome.ended === "failed" && outcome.reason).toContain(
        `answered more than ${maxAnswerBytes} bytes (the limit of a step's answer); the step was stopped and its answer dropped`,
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
      // What the maintenance held: the client's limit, SSH's window and socket buffers, and the
      // garbage of what it read (a few MiB on Node 22 and 24). A client that read on would hold the
      // flood itself, up to floodCapBytes (2 GiB).
      expect(outcome.peakGrowthBytes).toBeLessThan(16 * maxAnswerBytes);
    },
  );
});
