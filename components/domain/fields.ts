import { z } from "zod";

/**
 * Field schemas for every value the product may put into a host command. Each admits only
 * characters that cannot end a PowerShell single-quoted literal, expand a variable, or start
 * another command in PowerShell or cmd: values are quoted too, but never rely on quoting alone.
 */
const hostLabel = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";

export const HostName = z
  .string()
  .max(253)
  .regex(new RegExp(`^${hostLabel}(?:\\.${hostLabel})*$`), "must be a DNS host name or an IPv4 address");

export const Port = z.number().int().min(1).max(65535);

export const EngineName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be an engine name of letters, digits, '.', '_' and '-'");

export const UserName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@\\-]{0,103}$/,
    "must be a user name such as mps-admin, CORP\\mps-admin or mps-admin@corp.example",
  );

export const WindowsDirectory = z
  .string()
  .regex(
    /^[A-Za-z]:\\(?:[A-Za-z0-9 ._()-]+\\?)*$/,
    "must be an absolute Windows directory of letters, digits, spaces and . _ ( ) - (no quotes, $, %, ; or &)",
  );

export const ComPlusApplicationName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$/,
    "must be a COM+ application name of letters, digits, spaces, '.', '_' and '-'",
  );

export const ProgId = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*){1,2}$/, "must be a COM ProgID such as Vendor.Component");

/** An OpenSSH-style host key fingerprint, as `ssh-keygen -lf` prints it. */
export const HostKeyFingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "must be a SHA256 host key fingerprint such as SHA256:2X3…(43 characters)");

export const Sha256Hex = z.string().regex(/^[0-9a-fA-F]{64}$/, "must be 64 hexadecimal digits");

/** A file name the product may put into a host command: no path separators, quotes or shell metacharacters. */
export const SafeFileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be a plain file name (letters, digits, '.', '_', '-')");
