import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { catalog as defaultCatalog, type HotfixCatalog, type HotfixEntry } from "../catalog/catalog";
import { compareFileVersions, parseFileVersion } from "../catalog/fileVersion";
import {
  Credentials,
  FleetConfig,
  type EngineConfig,
  type HostSettings,
  type RelayConfig,
  type RolloutSettings,
} from "./fleetConfig";

/** One SSH hop: the host, who logs on, and how its key is checked. */
export interface SshEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** A pinned "SHA256:…" fingerprint, or "trust-unknown" where the stack opted out explicitly. */
  readonly hostKey: string;
}

export type EngineRoute =
  | { readonly kind: "direct"; readonly endpoint: SshEndpoint }
  | { readonly kind: "relay"; readonly relay: SshEndpoint; readonly engineHost: string };

export interface RequiredFile {
  readonly name: string;
  readonly version: string;
}

export interface HotfixRequirement {
  readonly hotfix: HotfixEntry;
  /** The files and the versions the engine must have at least: the catalog's, raised by the stack. */
  readonly files: readonly RequiredFile[];
  /** Absolute path of the package on the operator's machine. */
  readonly packagePath: string;
  readonly packageSha256: string;
}

export interface EnginePlan {
  readonly name: string;
  readonly route: EngineRoute;
  /** In catalog order: the order the engine receives them. */
  readonly hotfixes: readonly HotfixRequirement[];
  readonly binDir: string;
}

export interface FleetPlan {
  readonly stack: string;
  readonly engines: readonly EnginePlan[];
  readonly rollout: RolloutSettings;
  readonly host: HostSettings;
}

export class FleetConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: readonly string[],
  ) {
    super(
      `stack ${stackName}: the fleet configuration is invalid; nothing was run on any host:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "FleetConfigError";
  }
}

export interface RawFleetSettings {
  readonly stack: string;
  /** The `mps-hotfix:fleet` config value, parsed from YAML/JSON. */
  readonly fleet: unknown;
  /** The `mps-hotfix:credentials` config value. */
  readonly credentials: unknown;
  /** Whether `mps-hotfix:credentials` is stored as a Pulumi secret. */
  readonly credentialsAreSecret: boolean;
  /** Where relative package paths start (the project directory). */
  readonly baseDir: string;
  readonly catalog?: HotfixCatalog;
}

type PathPart = PropertyKey;

/** "engines[2].host" from ["engines", 2, "host"]. */
export function formatPath(path: readonly PathPart[]): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === "number") return `${text}[${part}]`;
    return text === "" ? String(part) : `${text}.${String(part)}`;
  }, "");
}

function engineNameAt(fleet: unknown, index: number): string | undefined {
  if (typeof fleet !== "object" || fleet === null) return undefined;
  const engines = (fleet as { engines?: unknown }).engines;
  if (!Array.isArray(engines)) return undefined;
  const engine: unknown = engines[index];
  if (typeof engine !== "object" || engine === null) return undefined;
  const name = (engine as { name?: unknown }).name;
  return typeof name === "string" && name !== "" ? name : undefined;
}

/** One problem line: the engine (when the path is inside one), the field, what is wrong. */
function problem(fleet: unknown, path: readonly PathPart[], message: string): string {
  const field = formatPath(path);
  if (path[0] === "engines" && typeof path[1] === "number") {
    const name = engineNameAt(fleet, path[1]);
    return `engine ${name ?? `#${path[1] + 1}`}: ${field}: ${message}`;
  }
  return `${field === "" ? "fleet" : field}: ${message}`;
}

function zodProblems(fleet: unknown, prefix: readonly PathPart[], error: z.ZodError): string[] {
  return error.issues.map((issue) => problem(fleet, [...prefix, ...issue.path], issue.message));
}

function endpointOf(config: RelayConfig | (EngineConfig & { user: string }), port: number): SshEndpoint {
  return {
    name: config.name,
    host: config.host,
    port,
    user: config.user,
    hostKey: config.hostKey ?? "trust-unknown",
  };
}

function sha256Of(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * Validates a stack's fleet configuration and resolves it into a plan, or throws a
 * FleetConfigError listing every problem with the stack, the engine and the field.
 * It reads only the operator's machine (package files); it never contacts a host.
 */
export function planFleet(raw: RawFleetSettings): FleetPlan {
  const catalog = raw.catalog ?? defaultCatalog;
  const parsed = FleetConfig.safeParse(raw.fleet ?? undefined);
  if (!parsed.success) {
    const rawIsMissing = raw.fleet === undefined || raw.fleet === null;
    throw new FleetConfigError(
      raw.stack,
      rawIsMissing
        ? ["mps-hotfix:fleet: is not set (the stack lists no engines)"]
        : zodProblems(raw.fleet, [], parsed.error),
    );
  }
  const fleet = parsed.data;
  const problems: string[] = [];
  const at = (path: readonly PathPart[], message: string): void =>
    void problems.push(problem(raw.fleet, path, message));

  const credentials = Credentials.safeParse(raw.credentials ?? {});
  if (!credentials.success) {
    problems.push(...credentials.error.issues.map((i) => `credentials.${formatPath(i.path)}: ${i.message}`));
  } else if (raw.credentials !== undefined && !raw.credentialsAreSecret) {
    problems.push(
      "credentials: must be stored as a Pulumi secret (pulumi config set --secret --path 'credentials.<name>.password')",
    );
  }
  const credentialNames = new Set(Object.keys(credentials.success ? credentials.data : {}));

  const relays = new Map<string, RelayConfig>();
  fleet.relays.forEach((relay, index) => {
    if (relays.has(relay.name.toLowerCase())) at(["relays", index, "name"], `duplicate relay name ${relay.name}`);
    relays.set(relay.name.toLowerCase(), relay);
    if (!credentialNames.has(relay.name))
      at(["relays", index], `missing secret credentials.${relay.name} (a password or privateKey)`);
  });

  const seenNames = new Map<string, number>();
  const seenHosts = new Map<string, number>();
  fleet.engines.forEach((engine, index) => {
    const name = engine.name.toLowerCase();
    const first = seenNames.get(name);
    if (first !== undefined) at(["engines", index, "name"], `duplicate engine name (also engines[${first}])`);
    else seenNames.set(name, index);

    const hostKey =
      engine.relay === undefined
        ? `ssh:${engine.host.toLowerCase()}:${engine.port ?? 22}`
        : `relay:${engine.relay.toLowerCase()}:${engine.host.toLowerCase()}`;
    const firstHost = seenHosts.get(hostKey);
    if (firstHost !== undefined)
      at(["engines", index, "host"], `duplicate host ${engine.host} (also engines[${firstHost}])`);
    else seenHosts.set(hostKey, index);

    if (engine.relay !== undefined && !relays.has(engine.relay.toLowerCase())) {
      at(
        ["engines", index, "relay"],
        `names no relay in relays (${[...relays.values()].map((r) => r.name).join(", ") || "none defined"})`,
      );
    }
    if (engine.relay === undefined && !credentialNames.has(engine.name)) {
      at(["engines", index], `missing secret credentials.${engine.name} (a password or privateKey)`);
    }
    (engine.hotfixes ?? []).forEach((id, h) => {
      if (!catalog.some((entry) => entry.id === id))
        at(
          ["engines", index, "hotfixes", h],
          `unknown hotfix ${id} (the catalog has ${catalog.map((e) => e.id).join(", ")})`,
        );
    });
  });

  fleet.hotfixes.forEach((id, h) => {
    if (!catalog.some((entry) => entry.id === id))
      at(["hotfixes", h], `unknown hotfix ${id} (the catalog has ${catalog.map((e) => e.id).join(", ")})`);
  });

  const usedHotfixes = new Set([...fleet.hotfixes, ...fleet.engines.flatMap((e) => e.hotfixes ?? [])]);
  const packagePaths = new Map<string, string>();
  for (const id of usedHotfixes) {
    const source = fleet.packages[id];
    if (source === undefined) {
      at(["packages"], `no package source for ${id} (give packages.${id}.path and packages.${id}.sha256)`);
      continue;
    }
    const path = isAbsolute(source.path) ? source.path : resolve(raw.baseDir, source.path);
    if (!existsSync(path) || !statSync(path).isFile()) {
      at(["packages", id, "path"], `no such file: ${path}`);
      continue;
    }
    const actual = sha256Of(path);
    if (actual !== source.sha256.toLowerCase()) {
      at(["packages", id, "sha256"], `the package at ${path} has SHA-256 ${actual}, not the one the stack pins`);
      continue;
    }
    packagePaths.set(id, path);
  }

  for (const [file, version] of Object.entries(fleet.minimumFileVersions)) {
    if (!catalog.some((entry) => entry.files.some((f) => f.name.toLowerCase() === file.toLowerCase()))) {
      at(["minimumFileVersions", file], `no hotfix in the catalog installs ${file} (version ${version})`);
    }
  }

  if (problems.length > 0) throw new FleetConfigError(raw.stack, problems);

  const requirementOf = (entry: HotfixEntry): HotfixRequirement => ({
    hotfix: entry,
    files: entry.files.map((file) => {
      const raised = Object.entries(fleet.minimumFileVersions).find(
        ([name]) => name.toLowerCase() === file.name.toLowerCase(),
      )?.[1];
      const later =
        raised !== undefined && compareFileVersions(parseFileVersion(raised)!, parseFileVersion(file.version)!) > 0;
      return { name: file.name, version: later ? raised : file.version };
    }),
    packagePath: packagePaths.get(entry.id)!,
    packageSha256: fleet.packages[entry.id]!.sha256.toLowerCase(),
  });

  const engines = fleet.engines.map((engine): EnginePlan => {
    const wanted = new Set(engine.hotfixes ?? fleet.hotfixes);
    const route: EngineRoute =
      engine.relay === undefined
        ? { kind: "direct", endpoint: endpointOf({ ...engine, user: engine.user! }, engine.port ?? 22) }
        : (() => {
            const relay = relays.get(engine.relay.toLowerCase())!;
            return { kind: "relay", relay: endpointOf(relay, relay.port), engineHost: engine.host };
          })();
    return {
      name: engine.name,
      route,
      hotfixes: catalog.filter((entry) => wanted.has(entry.id)).map(requirementOf),
      binDir: engine.binDir ?? fleet.host.binDir,
    };
  });

  return { stack: raw.stack, engines, rollout: fleet.rollout, host: fleet.host };
}

/** The credentials of the hops an engine's route uses, by endpoint name. */
export function credentialNamesFor(engine: EnginePlan): readonly string[] {
  return engine.route.kind === "direct" ? [engine.route.endpoint.name] : [engine.route.relay.name];
}
