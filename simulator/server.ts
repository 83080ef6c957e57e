import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { Server as SshServer, utils as sshUtils, type Connection, type ServerChannel } from "ssh2";
import { encodeOem } from "../components/host/codePages";
import { encodingKey } from "../components/host/invocation";
import type { ScriptName } from "../components/host/scriptNames";
import { parseInput, readCommandLine, type ParsedCommand } from "./commandLine";
import { EngineHost, type Clock, type EngineChange, type EngineSnapshot } from "./engineHost";
import type { DefaultShell, FleetFile, OemCodePage, RelayFaults, StepDelays } from "./fleetFile";
import {
  runDirectScript,
  runRelayScript,
  startDirectInstall,
  startRelayInstall,
  unseen,
  type InstallRun,
  type Logon,
  type ScriptRun,
} from "./scriptRunner";
import { StepLog, type StepListener, type StepRecord } from "./stepLog";
import { clientLeft, ignoreStreamErrors, reply } from "./channelReply";
import { refusedPort } from "./refusedPort";
import { floodChannel } from "./flood";

export interface SimulatedHost {
  readonly name: string;
  readonly kind: "engine" | "relay";
  readonly address: string;
  readonly port: number;
  /** "SHA256:" and the unpadded base64 of the key blob's SHA-256, as OpenSSH prints it. */
  readonly hostKeySha256: string;
}

/**
 * What happens on the fleet besides the steps it records: a script accepted and beginning to run
 * (its step delay, an install's run time, start now), and a connection the fleet is done with.
 * Tests wait for these instead of guessing with timers how long the simulator takes.
 */
export type FleetActivity =
  | {
      readonly kind: "script-started";
      readonly host: string;
      readonly via?: string;
      readonly script: ScriptName;
      /** The script as it came over SSH: the engine's script, or on a relay the relay script. */
      readonly received: string;
    }
  | { readonly kind: "connection-closed"; readonly host: string };

export type ActivityListener = (activity: FleetActivity) => void;

export interface SimulatedFleetOptions {
  /** Time for step records and install logs; the system clock by default. */
  readonly clock?: Clock;
  /** Overrides the fleet file's stepDelaysMs, script by script. */
  readonly stepDelaysMs?: StepDelays;
}

export interface SimulatedFleet {
  /** Every SSH endpoint: engines with ssh: true, and relays. */
  readonly hosts: readonly SimulatedHost[];
  log(): readonly StepRecord[];
  /** Calls `listener` with each step as it is recorded; returns the unsubscribe function. */
  onStep(listener: StepListener): () => void;
  /** Calls `listener` with each activity as it happens; returns the unsubscribe function. */
  onActivity(listener: ActivityListener): () => void;
  /** TCP connections accepted so far, by the whole fleet or by one host. */
  connectionCount(hostName?: string): number;
  host(name: string): EngineSnapshot;
  alter(name: string, change: EngineChange): void;
  /** Restarts an engine server: pending file replacements land, COM+ responds again, open sessions drop. */
  restartHost(name: string): void;
  /** Closes every listener and open connection. */
  stop(): Promise<void>;
}

/** The most stdin a script reads; a real ReadToEnd would exhaust the host long before. */
const maxStdinBytes = 256 * 1024 * 1024;

/**
 * The longest command line each default shell of OpenSSH for Windows runs: cmd.exe takes at most
 * 8,191 characters, and PowerShell's own command line, like any process's, at most 32,767.
 */
export const commandLineLimits: Readonly<Record<DefaultShell, number>> = { cmd: 8191, powershell: 32767 };

const shellTooLong: Readonly<Record<DefaultShell, string>> = {
  cmd: "The command line is too long.",
  powershell: "Program 'powershell.exe' failed to run: The filename or extension is too long.",
};

/** The code page PowerShell writes redirected output in: UTF-8 once the bootstrap's switch took, the OEM one otherwise. */
const utf8CodePage = 65001;

interface Listener {
  readonly name: string;
  readonly kind: "engine" | "relay";
  readonly address: string;
  port: number;
  readonly faults: RelayFaults;
  readonly engine: EngineHost | undefined;
  readonly defaultShell: DefaultShell;
  readonly oemCodePage: OemCodePage;
  readonly privateKey: string;
  readonly hostKeySha256: string;
  readonly sockets: Set<Socket>;
  server: NetServer | undefined;
  connections: number;
}

export async function startSimulatedFleet(
  fleet: FleetFile,
  options: SimulatedFleetOptions = {},
): Promise<SimulatedFleet> {
  const simulated = new Fleet(fleet, options);
  try {
    await simulated.listen();
  } catch (error: unknown) {
    await simulated.stop();
    throw error;
  }
  return simulated;
}

class Fleet implements SimulatedFleet {
  private readonly steps: StepLog;
  private readonly engines: readonly EngineHost[];
  private readonly listeners: readonly Listener[];
  private readonly delays: StepDelays;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly activityListeners = new Set<ActivityListener>();
  private stopped = false;

  constructor(
    private readonly fleet: FleetFile,
    options: SimulatedFleetOptions,
  ) {
    const clock = options.clock ?? (() => new Date());
    this.steps = new StepLog(clock);
    this.delays = { ...fleet.stepDelaysMs, ...options.stepDelaysMs };
    this.engines = fleet.engines.map((engine) => new EngineHost(engine, clock));
    this.listeners = [
      ...fleet.engines.flatMap((engine, index) =>
        engine.ssh ? [newListener({ ...engine, kind: "engine" }, this.engines[index])] : [],
      ),
      ...fleet.relays.map((relay) => newListener({ ...relay, kind: "relay" }, undefined)),
    ];
  }

  get hosts(): readonly SimulatedHost[] {
    return this.listeners.map(({ name, kind, address, port, hostKeySha256 }) => ({
      name,
      kind,
      address,
      port,
      hostKeySha256,
    }));
  }

  async listen(): Promise<void> {
    for (const listener of this.listeners) {
      if (listener.faults.refuseConnections) {
        // Nothing listens, so connecting is refused.
        if (listener.port === 0) listener.port = await refusedPort(listener.address);
        continue;
      }
      // A Windows host answers each script promptly; Nagle's algorithm would add a delay per script.
      const server = createServer({ noDelay: true }, (socket) => this.accept(listener, socket));
      listener.server = server;
      listener.port = await listenOn(server, listener.name, listener.address, listener.port);
    }
  }

  log(): readonly StepRecord[] {
    return this.steps.all();
  }

  onStep(listener: StepListener): () => void {
    return this.steps.subscribe(listener);
  }

  onActivity(listener: ActivityListener): () => void {
    this.activityListeners.add(listener);
    return () => this.activityListeners.delete(listener);
  }

  private report(activity: FleetActivity): void {
    for (const listener of this.activityListeners) listener(activity);
  }

  connectionCount(hostName?: string): number {
    if (hostName === undefined) return this.listeners.reduce((sum, listener) => sum + listener.connections, 0);
    return this.listenerNamed(hostName).connections;
  }

  host(name: string): EngineSnapshot {
    return this.engineNamed(name).snapshot();
  }

  alter(name: string, change: EngineChange): void {
    this.engineNamed(name).alter(change);
  }

  restartHost(name: string): void {
    const engine = this.engineNamed(name);
    engine.restart();
    for (const listener of this.listeners) {
      if (listener.engine === engine) for (const socket of listener.sockets) socket.destroy();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(
      this.listeners.map(async (listener) => {
        for (const socket of listener.sockets) socket.destroy();
        const server = listener.server;
        listener.server = undefined;
        if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }

  private engineNamed(name: string): EngineHost {
    const engine = this.engines.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (engine === undefined) throw new Error(`no simulated engine named ${name}`);
    return engine;
  }

  private listenerNamed(name: string): Listener {
    const listener = this.listeners.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (listener === undefined) throw new Error(`no simulated SSH host named ${name}`);
    return listener;
  }

  private accept(listener: Listener, socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    listener.connections++;
    listener.sockets.add(socket);
    socket.once("close", () => {
      listener.sockets.delete(socket);
      // ssh2 handles the socket's close in a listener of its own and ends the connection's channels
      // on a later tick (their 'end' runs this fleet's last handlers); the fleet is done with the
      // connection once those have run, which setImmediate waits for (Node's event loop: the check
      // phase follows the callbacks and next-tick queue of the poll phase that saw the close).
      setImmediate(() => this.report({ kind: "connection-closed", host: listener.name }));
    });
    socket.on("error", () => undefined);
    if (listener.faults.hangAfterConnect) {
      this.steps.append({
        host: listener.name,
        script: "connect",
        detail: "fault hangAfterConnect: TCP accepted, no SSH banner",
      });
      return;
    }
    this.steps.append({ host: listener.name, script: "connect" });
    // One ssh2 Server per socket, so each connection's handlers know the socket to drop.
    const ssh = new SshServer({ hostKeys: [listener.privateKey] }, (client) => this.serve(listener, socket, client));
    ssh.injectSocket(socket);
  }

  private serve(listener: Listener, socket: Socket, client: Connection): void {
    const { user, password, publicKey } = this.fleet.credentials;
    const accepted = publicKey === undefined ? undefined : sshUtils.parseKey(publicKey);
    const authorizedKey = accepted === undefined || accepted instanceof Error ? undefined : accepted;
    const methods: ("password" | "publickey")[] =
      authorizedKey === undefined ? ["password"] : ["publickey", "password"];
    let logon: Logon = "password";
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => {
      if (ctx.method === "none") {
        ctx.reject(methods);
        return;
      }
      const rejectAll = listener.faults.rejectAuth === true;
      if (!rejectAll && ctx.method === "password" && ctx.username === user && sameText(ctx.password, password)) {
        logon = "password";
        ctx.accept();
        return;
      }
      if (!rejectAll && ctx.method === "publickey" && ctx.username === user && authorizedKey !== undefined) {
        const sameKey = ctx.key.algo === authorizedKey.type && ctx.key.data.equals(authorizedKey.getPublicSSH());
        if (sameKey && ctx.signature === undefined) {
          // The client asks whether this key would do; it signs with it next.
          ctx.accept();
          return;
        }
        if (sameKey && ctx.blob !== undefined && authorizedKey.verify(ctx.blob, ctx.signature!, ctx.hashAlgo)) {
          logon = "publickey";
          ctx.accept();
          return;
        }
      }
      const reason = rejectAll
        ? "fault rejectAuth"
        : ctx.method === "password"
          ? "wrong user or password"
          : ctx.method === "publickey" && authorizedKey !== undefined
            ? "wrong user or key"
            : "only password authentication is offered";
      this.steps.append({
        host: listener.name,
        script: "auth-rejected",
        detail: `${ctx.method} for ${ctx.username}: ${reason}`,
      });
      ctx.reject(methods);
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        // ssh2's accept functions return nothing once the session has a channel or is ending (a
        // second request on one session, a client already closing it), whatever its types say.
        session.on("shell", (acceptShell) => {
          const channel = acceptShell() as ServerChannel | undefined;
          if (channel === undefined) return;
          reply(socket, ignoreStreamErrors(channel), {
            stderr: "This simulated host runs only the commands mps-hotfix sends (exec), not a shell.\r\n",
            exitCode: 1,
          });
        });
        session.on("exec", (acceptExec, _reject, info) => {
          const channel = acceptExec() as ServerChannel | undefined;
          if (channel === undefined) return;
          this.exec(listener, socket, ignoreStreamErrors(channel), info.command, logon);
        });
      });
    });
  }

  private exec(listener: Listener, socket: Socket, channel: ServerChannel, commandLine: string, logon: Logon): void {
    // OpenSSH for Windows hands the command to the host's default shell, which has its own limit.
    const limit = commandLineLimits[listener.defaultShell];
    if (commandLine.length > limit) {
      const reason = `${listener.defaultShell === "cmd" ? "cmd.exe" : "powershell.exe"} (the default shell) refused a command line of ${commandLine.length} characters; it takes at most ${limit}`;
      this.steps.append({ host: listener.name, script: "rejected-command", detail: reason });
      reply(socket, channel, { stderr: `${shellTooLong[listener.defaultShell]}\r\n`, exitCode: 1 });
      return;
    }
    const accepted = readCommandLine(commandLine, listener.defaultShell);
    if (!accepted.ok) {
      this.refuse(listener, socket, channel, accepted.reason);
      return;
    }
    // Piped from echo, the bootstrap's input is echo's line; cmd.exe leaves the channel's unread.
    if (accepted.stdin.from === "echo") {
      this.run(listener, socket, channel, accepted.stdin.text, logon);
      return;
    }
    // The bootstrap reads its standard input to the end before it runs anything.
    const chunks: Buffer[] = [];
    let size = 0;
    channel.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxStdinBytes) socket.destroy();
      else chunks.push(chunk);
    });
    channel.once("end", () => this.run(listener, socket, channel, Buffer.concat(chunks).toString("utf8"), logon));
  }

  private run(listener: Listener, socket: Socket, channel: ServerChannel, stdin: string, logon: Logon): void {
    const parsed = parseInput(stdin);
    if (!parsed.ok) {
      this.refuse(listener, socket, channel, parsed.reason);
      return;
    }
    const command = parsed.command;
    if (listener.kind === "engine" && command.kind === "relay") {
      this.refuse(listener, socket, channel, "this is an MPS engine server; it runs engine scripts, not relay scripts");
      return;
    }
    if (listener.kind === "relay" && command.kind === "script") {
      this.refuse(listener, socket, channel, "this is a relay host; it runs relay scripts, not engine scripts");
      return;
    }
    const scriptName = command.kind === "script" ? command.script.name : command.inner.name;
    const received = command.kind === "script" ? command.script.text : command.text;
    this.report({ kind: "script-started", ...this.stepHost(listener, command), script: scriptName, received });
    if (scriptName === "install-package") {
      this.install(listener, socket, channel, command, logon);
      return;
    }
    this.afterDelay(scriptName, () => {
      if (clientLeft(socket, channel)) {
        this.steps.append({
          ...this.stepHost(listener, command),
          script: scriptName,
          detail: "the client disconnected before the script finished; it did not complete",
        });
        return;
      }
      const run =
        command.kind === "script"
          ? runDirectScript(this.hostOf(listener), command)
          : runRelayScript(listener.name, command, this.engines, logon);
      this.respond(listener, socket, channel, run);
    });
  }

  /**
   * install-package: msiexec starts at once and Windows Installer finishes the install after the
   * step's delay (its run time), whether or not the session that started it is still there.
   */
  private install(
    listener: Listener,
    socket: Socket,
    channel: ServerChannel,
    command: ParsedCommand,
    logon: Logon,
  ): void {
    const started: InstallRun =
      command.kind === "script"
        ? startDirectInstall(this.hostOf(listener), command)
        : startRelayInstall(listener.name, command, this.engines, logon);
    if (started.now !== undefined) this.respond(listener, socket, channel, started.now);
    const finish = started.finish;
    if (finish === undefined) return;
    const host =
      command.kind === "script"
        ? this.hostOf(listener)
        : this.engines.find((engine) => engine.answersTo(command.engine));
    this.afterDelay("install-package", () => {
      const done = finish();
      // The session was answered already (its connection dropped by a fault): the install's end is only recorded.
      const recorded =
        started.now !== undefined
          ? done
          : clientLeft(socket, channel) && host !== undefined
            ? unseen(done, host, command.kind === "relay" ? listener.name : undefined)
            : undefined;
      if (recorded === undefined) this.respond(listener, socket, channel, done);
      else for (const step of recorded.steps) this.steps.append(step);
    });
  }

  private stepHost(listener: Listener, command: ParsedCommand): { host: string; via?: string } {
    if (command.kind === "script") return { host: listener.name };
    const host = this.engines.find((engine) => engine.answersTo(command.engine))?.name ?? command.engine;
    return { host, via: listener.name };
  }

  private respond(listener: Listener, socket: Socket, channel: ServerChannel, run: ScriptRun): void {
    const after = run.answerAfterMs ?? 0;
    if (after > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!clientLeft(socket, channel)) this.respond(listener, socket, channel, { ...run, answerAfterMs: 0 });
      }, after);
      this.timers.add(timer);
      return;
    }
    for (const step of run.steps) this.steps.append(step);
    const response = run.response;
    switch (response.kind) {
      case "hang":
        return;
      case "drop":
        socket.destroy();
        return;
      case "flood": {
        const step = run.steps[0];
        channel.write(`${encodingKey}=${this.codePageOf(listener)}\r\n`);
        floodChannel(channel, socket, (bytes, why) => {
          if (step !== undefined)
            this.steps.append({ ...step, detail: `fault floodAnswer: the answer ended (${why}) after ${bytes} bytes` });
        });
        return;
      }
      case "answer": {
        // The bootstrap's first line names the code page its output is in; Windows consoles end
        // lines with CRLF, and so does what OpenSSH for Windows relays.
        const codePage = this.codePageOf(listener);
        const text = [`${encodingKey}=${codePage}`, ...response.stdout].map((line) => `${line}\r\n`).join("");
        const stdout = codePage === utf8CodePage ? Buffer.from(text, "utf8") : encodeOem(text, listener.oemCodePage);
        // A client that left after the script ran misses its answer; the script's effect stays.
        reply(socket, channel, { stdout, exitCode: response.exitCode });
      }
    }
  }

  /** The code page the bootstrap leaves in force on the SSH host: UTF-8, unless the console refused the switch. */
  private codePageOf(listener: Listener): number {
    const faults = listener.engine?.faults ?? listener.faults;
    return faults.consoleEncodingLocked === true ? listener.oemCodePage : utf8CodePage;
  }

  private refuse(listener: Listener, socket: Socket, channel: ServerChannel, reason: string): void {
    this.steps.append({ host: listener.name, script: "rejected-command", detail: reason });
    reply(socket, channel, { stderr: `mps-simulator: refusing the command: ${reason}\r\n`, exitCode: 1 });
  }

  private afterDelay(script: ScriptName, action: () => void): void {
    const delay = this.delays[script] ?? this.delays.default ?? 0;
    if (delay === 0) {
      action();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, delay);
    this.timers.add(timer);
  }

  private hostOf(listener: Listener): EngineHost {
    if (listener.engine === undefined) throw new Error(`${listener.name} is not an engine`);
    return listener.engine;
  }
}

interface ListenerSettings {
  readonly name: string;
  readonly kind: "engine" | "relay";
  readonly address: string;
  readonly port: number;
  readonly faults: RelayFaults;
  readonly defaultShell: DefaultShell;
  readonly oemCodePage: OemCodePage;
}

function newListener(settings: ListenerSettings, engine: EngineHost | undefined): Listener {
  const { name, kind, address, port, defaultShell, oemCodePage } = settings;
  const faults: RelayFaults = {
    ...(settings.faults.refuseConnections === undefined
      ? {}
      : { refuseConnections: settings.faults.refuseConnections }),
    ...(settings.faults.hangAfterConnect === undefined ? {} : { hangAfterConnect: settings.faults.hangAfterConnect }),
    ...(settings.faults.rejectAuth === undefined ? {} : { rejectAuth: settings.faults.rejectAuth }),
    ...(settings.faults.consoleEncodingLocked === undefined
      ? {}
      : { consoleEncodingLocked: settings.faults.consoleEncodingLocked }),
  };
  const hostKey = newHostKey();
  return {
    name,
    kind,
    address,
    port,
    faults,
    engine,
    defaultShell,
    oemCodePage,
    privateKey: hostKey.privateKey,
    hostKeySha256: `SHA256:${createHash("sha256").update(hostKey.publicBlob).digest("base64").replace(/=+$/, "")}`,
    sockets: new Set(),
    server: undefined,
    connections: 0,
  };
}

/**
 * An ed25519 host key. ssh2's generator drops leading zero bytes of the public key, so about one
 * key in 256 comes out malformed and cannot be parsed back (mscdex/ssh2 issue 1390): such a key is
 * generated again.
 */
function newHostKey(): { privateKey: string; publicBlob: Buffer } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const keys = sshUtils.generateKeyPairSync("ed25519");
    const privateKey = sshUtils.parseKey(keys.private);
    const publicKey = sshUtils.parseKey(keys.public);
    if (!(privateKey instanceof Error) && !(publicKey instanceof Error)) {
      return { privateKey: keys.private, publicBlob: publicKey.getPublicSSH() };
    }
  }
  throw new Error("could not generate an ed25519 host key");
}

function listenOn(server: NetServer, name: string, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void =>
      reject(new Error(`${name}: cannot listen on ${address}:${port}: ${error.message}`));
    server.once("error", fail);
    server.listen(port, address, () => {
      server.off("error", fail);
      server.on("error", () => undefined);
      const bound = server.address();
      resolve(typeof bound === "object" && bound !== null ? bound.port : port);
    });
  });
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}
