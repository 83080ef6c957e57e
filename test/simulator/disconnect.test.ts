import { Client, type ClientChannel } from "ssh2";
import type { SimulatedFleet, SimulatedHost } from "../../simulator/server";
import { startFleetProcess, type FleetProcess } from "../support/fleetProcess";
import {
  answer,
  hostNamed,
  messageOf,
  nextActivity,
  nextStep,
  password,
  productConnectConfig,
  renameLines,
  run,
  scripts,
  sent,
  startFleet,
  user,
  type ConnectOptions,
} from "./helpers";

/**
 * The simulated fleet outlives its clients: a client leaves at each point of an exchange, in each
 * way a client can leave, and after each the same fleet answers another client's probe. The points
 * are the events of the real ssh2 client (and of the fleet, for a step under way), so each case
 * leaves at exactly the point it names.
 */

/** Where in an exchange the client leaves. */
const cutPoints = [
  "tcp-connected",
  "key-exchange",
  "handshake-done",
  "authenticated",
  "exec-accepted",
  "script-partial",
  "payload-partial",
  "step-running",
  "install-running",
  "output-started",
] as const;
type CutPoint = (typeof cutPoints)[number];

/**
 * How the client leaves: `end` says goodbye (SSH disconnect, then FIN), `destroy` drops the socket
 * as a killed process or a lost network does, `close-channel` closes the command's channel and
 * keeps the connection, as a client that gives up on one command does.
 */
type Leave = "end" | "destroy" | "close-channel";

/** The cut points that have a command's channel to close. */
const withChannel: readonly CutPoint[] = [
  "exec-accepted",
  "script-partial",
  "payload-partial",
  "step-running",
  "install-running",
  "output-started",
];

const cases: readonly (readonly [CutPoint, Leave])[] = cutPoints.flatMap((cut) =>
  (withChannel.includes(cut) ? (["end", "destroy", "close-channel"] as const) : (["end", "destroy"] as const)).map(
    (leave) => [cut, leave] as const,
  ),
);

const stepDelayMs = 200;
const outdated = "13.3.600.0";
const installed = "13.3.609.1";

/** What a step record says, without its sequence number and time. */
interface Recorded {
  readonly script: string;
  readonly exitCode?: number;
  readonly detail?: string;
}

/** What the fleet records for the leaving client's connection, by cut point (the same for every way of leaving). */
const recordedAfter: Readonly<Record<CutPoint, readonly Recorded[]>> = {
  "tcp-connected": [{ script: "connect" }],
  "key-exchange": [{ script: "connect" }],
  "handshake-done": [{ script: "connect" }],
  authenticated: [{ script: "connect" }],
  // The bootstrap reads its input to the end, which comes when the client leaves: what it got is refused.
  "exec-accepted": [
    { script: "connect" },
    { script: "rejected-command", detail: "the first line of standard input is not base64" },
  ],
  "script-partial": [
    { script: "connect" },
    { script: "rejected-command", detail: "the first line of standard input is not base64" },
  ],
  // The script arrived whole and starts; its client is gone before it finishes, so it has no effect.
  "payload-partial": [
    { script: "connect" },
    {
      script: "stage-package",
      detail: "the client disconnected before the script finished; it did not complete",
    },
  ],
  "step-running": [
    { script: "connect" },
    {
      script: "deactivate-engine",
      detail: "the client disconnected before the script finished; it did not complete",
    },
  ],
  "install-running": [
    { script: "connect" },
    {
      script: "install-package",
      exitCode: 0,
      detail:
        "the client disconnected while msiexec ran; Windows Installer finished the install on its own: msiexec exit code 0",
    },
  ],
  "output-started": [{ script: "connect" }, { script: "probe", exitCode: 0 }],
};

/** The probe's answer on MPS01 after the cut: only a finished install changes what it reports. */
function probeAfter(cut: CutPoint): string[] {
  const version = cut === "install-running" ? installed : outdated;
  return [
    `file:Mapsproccntl.dll=${version}`,
    "engine=active",
    "complus.instances=0",
    "complus=stopped",
    ...renameLines([]),
    "exit=0",
  ];
}

/** A client's position in an exchange, and how to leave it from there. */
interface AtCut {
  readonly client: Client;
  /** The command's channel, and its 'close' (subscribed as it opened: the fleet may close it first). */
  readonly channel?: { readonly stream: ClientChannel; readonly closed: Promise<void> };
  /** Resolves when the fleet has recorded what the cut leaves behind, as far as it comes after leaving. */
  readonly outcome: Promise<unknown>;
}

/**
 * Starts an exchange with MPS01 and resolves at the cut point, before leaving. A step under way is
 * seen in the fleet's activity, so those cut points need the fleet in this process.
 */
function reach(host: SimulatedHost, cut: CutPoint, fleet?: SimulatedFleet): Promise<AtCut> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    // After the cut, ssh2 reports the end of the connection as an error (a reset, a handshake
    // that did not finish): that is the leaving this test does, not a failure.
    let arrived = false;
    client.on("error", (error) => {
      if (!arrived) reject(error);
    });
    const at = (position: Omit<AtCut, "client" | "outcome">, outcome: Promise<unknown> = Promise.resolve()): void => {
      arrived = true;
      resolve({ client, outcome, ...position });
    };
    const options: ConnectOptions = cut === "key-exchange" ? { onHostKey: () => at({}) } : {};
    const config = productConnectConfig(host, options);
    if (cut === "tcp-connected") config.sock.once("connect", () => at({}));
    if (cut === "handshake-done") client.once("handshake", () => at({}));
    client.once("ready", () => {
      if (cut === "authenticated") {
        at({});
        return;
      }
      const script =
        cut === "step-running"
          ? scripts.deactivate("MPS01")
          : cut === "install-running"
            ? scripts.install("MPS01")
            : cut === "script-partial" || cut === "payload-partial"
              ? scripts.stage()
              : scripts.probe("MPS01");
      const { commandLine, stdin } = sent(script);
      client.exec(commandLine, (error, stream) => {
        if (error) {
          reject(error);
          return;
        }
        const channel = { stream, closed: new Promise<void>((done) => stream.once("close", () => done())) };
        switch (cut) {
          case "exec-accepted":
            at({ channel });
            return;
          case "script-partial":
          case "payload-partial": {
            // The input is the script's line, then the package; the cut is halfway through one of
            // them (through the script's base64, one character past a group of four, so what
            // arrived is not base64). What was written has gone to the socket when the write's
            // callback runs.
            const scriptLine = stdin.indexOf("\n");
            const upTo =
              cut === "script-partial"
                ? Math.floor(scriptLine / 8) * 4 + 1
                : scriptLine + 1 + (stdin.length - scriptLine - 1) / 2;
            stream.write(stdin.slice(0, Math.floor(upTo)), () => at({ channel }));
            return;
          }
          case "step-running":
          case "install-running": {
            if (fleet === undefined) {
              reject(new Error(`${cut} is seen in the fleet's activity: give reach() the fleet`));
              return;
            }
            const outcome = nextStep(fleet, (step) => step.script === script.name);
            void nextActivity(fleet, "script-started", (activity) => activity.script === script.name).then(() =>
              at({ channel }, outcome),
            );
            stream.end(stdin);
            return;
          }
          case "output-started":
            stream.once("data", () => at({ channel }));
            stream.end(stdin);
            return;
          default:
            reject(new Error(`no exec at ${cut}`));
        }
      });
    });
    client.connect(config);
  });
}

/** Leaves, and resolves once the fleet is done with what the client left. */
async function leave(fleet: SimulatedFleet, position: AtCut, how: Leave): Promise<void> {
  const closed = nextActivity(fleet, "connection-closed");
  if (how === "close-channel") {
    const channel = position.channel;
    if (channel === undefined) throw new Error("no channel to close");
    // The fleet answers the client's CHANNEL_CLOSE with its own, so the channel's 'close' means
    // the fleet has handled it (ssh2's README: 'close' once the channel is closed on both sides).
    // ssh2 emits it after the channel's 'end', which a paused stream never reaches: read it out.
    channel.stream.resume();
    channel.stream.close();
    await channel.closed;
    await position.outcome;
    position.client.end();
  } else if (how === "end") {
    position.client.end();
  } else {
    position.client.destroy();
  }
  await closed;
  await position.outcome;
}

describe("a client that leaves at any point of an exchange does not take the fleet down", () => {
  let fleet: SimulatedFleet;
  beforeEach(async () => {
    fleet = await startFleet(
      { engines: [{ name: "MPS01", files: { "Mapsproccntl.dll": outdated }, complus: "stopped" }] },
      { stepDelaysMs: { "deactivate-engine": stepDelayMs, "install-package": stepDelayMs } },
    );
  });
  afterEach(() => fleet.stop());

  test.each(cases)(
    "leaving at %s by %s",
    async (cut, how) => {
      const host = hostNamed(fleet, "MPS01");
      if (cut === "install-running") await run(host, scripts.stage());
      const before = fleet.log().length;

      await leave(fleet, await reach(host, cut, fleet), how);

      expect(
        fleet
          .log()
          .slice(before)
          .map(({ script, exitCode, detail }) => ({
            script,
            ...(exitCode === undefined ? {} : { exitCode }),
            ...(detail === undefined ? {} : { detail }),
          })),
      ).toEqual(recordedAfter[cut]);
      // The invariant: the same fleet serves another client, and the host is as the cut left it.
      expect(await run(host, scripts.probe("MPS01"))).toEqual(answer(probeAfter(cut)));
    },
    10000,
  );
});

/**
 * `npm run simulator` is `node dist/simulator/cli.js` (npm test builds dist first): the same cuts
 * against that process, whose step log on standard output says when it has handled each.
 */
describe("the simulator command stays up when a client leaves", () => {
  let simulator: FleetProcess | undefined;
  afterEach(async () => {
    await simulator?.stop();
    simulator = undefined;
  });

  test("after a client leaves with its command's input unsent, or halfway through it, the same process answers a probe", async () => {
    simulator = await startFleetProcess(
      [
        `credentials: { user: ${user}, password: ${password} }`,
        "engines:",
        "  - name: MPS01",
        "    complus: stopped",
        `    files: { Mapsproccntl.dll: ${outdated} }`,
      ].join("\n"),
    );
    const { child, nextLine, stderr } = simulator;
    const host = simulator.hosts.find((h) => h.name === "MPS01")!;
    const refused = (line: string): boolean => (JSON.parse(line) as { script?: string }).script === "rejected-command";

    const leaving: readonly (readonly [CutPoint, "end" | "destroy"])[] = [
      ["exec-accepted", "destroy"],
      ["exec-accepted", "end"],
      ["script-partial", "destroy"],
    ];
    for (const [cut, how] of leaving) {
      const handled = nextLine((line) => line.startsWith("{") && refused(line));
      const position = await reach(host, cut);
      if (how === "end") position.client.end();
      else position.client.destroy();
      expect(JSON.parse(await handled)).toMatchObject({
        host: "MPS01",
        script: "rejected-command",
        detail: "the first line of standard input is not base64",
      });
      const probed = await run(host, scripts.probe("MPS01")).catch((error: unknown) => {
        throw new Error(
          `the probe after leaving at ${cut} by ${how} failed: ${messageOf(error)}; simulator stderr:\n${stderr()}`,
        );
      });
      expect(probed).toEqual(answer(probeAfter(cut)));
    }
    expect([child.exitCode, child.signalCode]).toEqual([null, null]);
    expect(stderr()).toBe("simulated fleet running; step log to stdout; stop with Ctrl-C\n");
  }, 30000);
});
