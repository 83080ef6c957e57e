import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { catalog, type HotfixEntry } from "../../components/domain/catalog";
import { simulatedPackageBytes } from "../../simulator/simulatedPackage";

/** A project directory in the temp dir, holding package files the way a stack points at them. */
export class PackageDir {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "mps-hotfix-test-"));
  }

  /** Writes a file at a path relative to the directory and returns its SHA-256. */
  add(relativePath: string, content: string | Buffer): string {
    const path = join(this.dir, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return createHash("sha256").update(content).digest("hex");
  }

  /**
   * Writes a Windows Installer package that brings the entry's files to the catalog's versions,
   * or to the versions given (a package for a raised requirement, or one below it).
   */
  addPackage(relativePath: string, entry: HotfixEntry, versions: Readonly<Record<string, string>> = {}): string {
    const installs = Object.fromEntries(entry.files.map((f) => [f.name, versions[f.name] ?? f.version]));
    return this.add(relativePath, simulatedPackageBytes(entry.id, installs));
  }

  path(relativePath: string): string {
    return join(this.dir, relativePath);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Fleet config as a stack holds it: plain data, deliberately loose so tests can break it. */
export interface RawEngine {
  name?: string;
  host?: string;
  port?: number;
  user?: string;
  hostKey?: string;
  trustUnknownHostKey?: boolean;
  relay?: string;
  hotfixes?: string[];
  binDir?: string;
  pool?: string;
}

export interface RawRelay {
  name?: string;
  host?: string;
  port?: number;
  user?: string;
  hostKey?: string;
  trustUnknownHostKey?: boolean;
}

export interface RawFleet {
  engines?: RawEngine[];
  relays?: RawRelay[];
  hotfixes?: string[];
  packages?: Record<string, { path?: string; sha256?: string }>;
  catalog?: string;
  minimumFileVersions?: Record<string, string>;
  rollout?: Record<string, unknown>;
  host?: Record<string, string>;
}

export interface RawCredential {
  password?: unknown;
  privateKey?: unknown;
  [key: string]: unknown;
}

export const pinnedKey = "SHA256:" + "k".repeat(40) + "Q/+";

/** The package a stack pins, and engines MPS01.. reached directly with their own credentials. */
export function directFleet(
  packages: PackageDir,
  count: number,
): { fleet: RawFleet; credentials: Record<string, RawCredential> } {
  const sha256 = packages.addPackage("packages/KB952089.msi", catalog[0]!);
  const engines: RawEngine[] = [];
  const credentials: Record<string, RawCredential> = {};
  for (let i = 1; i <= count; i++) {
    const name = `MPS${String(i).padStart(2, "0")}`;
    engines.push({ name, host: `10.0.0.${i}`, user: "mps-admin", trustUnknownHostKey: true });
    credentials[name] = { password: `pw-${name}-Zq9!` };
  }
  return { fleet: { packages: { KB952089: { path: "packages/KB952089.msi", sha256 } }, engines }, credentials };
}
