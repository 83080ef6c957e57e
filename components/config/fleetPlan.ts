import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { catalog as defaultCatalog, parseCatalog, type HotfixCatalog, type HotfixEntry } from "../domain/catalog";
import { Credentials, sshHopOf, type EngineRoute, type SshEndpoint } from "../domain/endpoint";
import { compareFileVersions, parseFileVersion } from "../domain/fileVersion";
import type { HotfixPackage, RequiredFiles } from "../domain/requirement";
import { defaultPool, minInRotationOf } from "../domain/rollout";
import type { EngineTarget } from "../domain/target";
import { FleetConfig, type EngineConfig, type RelayConfig, type RolloutSettings } from "./fleetConfig";
import { packageProblems } from "./packagePreflight";

export interface FleetPlan {
  readonly stack: string;
  /** Every engine, in the stack's order: what each must carry and how it is reached. */
  readonly engines: readonly EngineTarget[];
  readonly rollout: RolloutSettings;
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

function directEndpointOf(engine: EngineConfig & { readonly user: string }): SshEndpoint {
  return {
    name: engine.name,
    host: engine.host,
    port: engine.port ?? 22,
    user: engine.user,
    ...(engine.hostKey !== undefined ? { hostKey: engine.hostKey } : {}),
    ...(engine.trustUnknownHostKey === true ? { trustUnknownHostKey: true } : {}),
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
  const catalogOfStack = loadCatalog(raw, fleet.catalog);
  if (typeof catalogOfStack === "string") throw new FleetConfigError(raw.stack, [catalogOfStack]);
  const catalog = catalogOfStack;
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
    // The relay's Invoke-Command to each engine is a second hop: it needs the account's own
    // credentials in the relay's logon session, which a key logon over OpenSSH does not carry.
    if (credentials.success && credentials.data[relay.name]?.privateKey !== undefined) {
      at(
        ["relays", index],
        `credentials.${relay.name}.privateKey: relay ${relay.name} runs each step on its engines with Invoke-Command (WinRM), a second hop that a key logon carries no credentials for, so the engines would refuse it (access denied); give relay ${relay.name} a password instead (credentials.${relay.name}.password)`,
      );
    }
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

  // rollout.minInRotation: a pool it names must exist, and it must leave an engine of the pool to maintain.
  const poolSizes = new Map<string, number>();
  for (const engine of fleet.engines)
    poolSizes.set(engine.pool ?? defaultPool, (poolSizes.get(engine.pool ?? defaultPool) ?? 0) + 1);
  const minInRotation = fleet.rollout.minInRotation;
  if (typeof minInRotation === "object") {
    for (const pool of Object.keys(minInRotation)) {
      if (!poolSizes.has(pool))
        at(
          ["rollout", "minInRotation", pool],
          `names no pool of the stack's engines (${[...poolSizes.keys()].join(", ")})`,
        );
    }
  }
  for (const [pool, size] of poolSizes) {
    const min = minInRotationOf(minInRotation, pool, size);
    if (min >= size && size > 0 && (typeof minInRotation === "number" || minInRotation?.[pool] !== undefined)) {
      at(
        typeof minInRotation === "number" ? ["rollout", "minInRotation"] : ["rollout", "minInRotation", pool],
        `${min} for pool ${pool} of ${size} engine(s) leaves none of them to maintain (at most ${size - 1})`,
      );
    }
  }

  fleet.hotfixes.forEach((id, h) => {
    if (!catalog.some((entry) => entry.id === id))
      at(["hotfixes", h], `unknown hotfix ${id} (the catalog has ${catalog.map((e) => e.id).join(", ")})`);
  });

  const requiredFilesOf = (entry: HotfixEntry): RequiredFiles =>
    Object.fromEntries(
      entry.files.map((file) => {
        const raised = Object.entries(fleet.minimumFileVersions).find(
          ([name]) => name.toLowerCase() === file.name.toLowerCase(),
        )?.[1];
        const later =
          raised !== undefined && compareFileVersions(parseFileVersion(raised)!, parseFileVersion(file.version)!) > 0;
        return [file.name, later ? raised : file.version];
      }),
    );
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

  // The package's own File table must bring every file to the requirement, before any host is touched.
  if (problems.length === 0) {
    for (const [id, path] of packagePaths) {
      const entry = catalog.find((e) => e.id === id)!;
      for (const message of packageProblems(id, path, requiredFilesOf(entry))) at(["packages", id], message);
    }
  }

  if (problems.length > 0) throw new FleetConfigError(raw.stack, problems);

  const packageOf = (entry: HotfixEntry): HotfixPackage => ({
    hotfix: entry.id,
    file: entry.packageFile,
    path: packagePaths.get(entry.id)!,
    sha256: fleet.packages[entry.id]!.sha256.toLowerCase(),
  });

  const engines = fleet.engines.map((engine): EngineTarget => {
    const wanted = new Set(engine.hotfixes ?? fleet.hotfixes);
    const route: EngineRoute =
      engine.relay === undefined
        ? { kind: "direct", endpoint: directEndpointOf({ ...engine, user: engine.user! }) }
        : { kind: "relay", relay: relays.get(engine.relay.toLowerCase())!, engineHost: engine.host };
    const carried = catalog.filter((entry) => wanted.has(entry.id));
    return {
      engine: engine.name,
      route,
      host: { ...fleet.host, ...(engine.binDir !== undefined ? { binDir: engine.binDir } : {}) },
      packages: carried.map(packageOf),
      files: Object.fromEntries(carried.map((entry) => [entry.id, requiredFilesOf(entry)])),
    };
  });

  return { stack: raw.stack, engines, rollout: fleet.rollout };
}

/** The catalog a stack uses: its own file when it names one, the built-in one otherwise; or the problem. */
function loadCatalog(raw: RawFleetSettings, file: string | undefined): HotfixCatalog | string {
  if (file === undefined) return raw.catalog ?? defaultCatalog;
  const path = isAbsolute(file) ? file : resolve(raw.baseDir, file);
  try {
    return parseCatalog(JSON.parse(readFileSync(path, "utf8")));
  } catch (error) {
    return `catalog: ${path}: ${oneLine((error as Error).message)}`;
  }
}

/** A multi-line message as one problem line: "a:\n b\n c" reads "a: b; c". */
function oneLine(message: string): string {
  return message.replace(/:\s*\n\s*/g, ": ").replace(/\s*\n\s*/g, "; ");
}

/** The credentials of the hops an engine's route uses, by endpoint name. */
export function credentialNamesFor(engine: EngineTarget): readonly string[] {
  return [sshHopOf(engine.route).name];
}
