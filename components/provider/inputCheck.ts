import type * as pulumi from "@pulumi/pulumi";
import { EngineHotfixesInputs } from "./resourceState";

/** The value the engine sends for an input that is not known yet (during a preview). */
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function holdsUnknown(value: unknown): boolean {
  if (value === unknownValue) return true;
  if (Array.isArray(value)) return value.some(holdsUnknown);
  if (typeof value === "object" && value !== null) return Object.values(value).some(holdsUnknown);
  return false;
}

function withoutProvider(props: unknown): Record<string, unknown> {
  const { __provider: _provider, ...rest } = (props ?? {}) as Record<string, unknown>;
  return rest;
}

/**
 * The engine's check: every problem as a failure with its property, instead of an exception.
 * Inputs that are not known yet (a preview of a stack that wires them from other resources) pass
 * as they are; they are checked when they are known.
 */
export async function checkInputs(_olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult> {
  const inputs = news as Record<string, unknown>;
  const props = withoutProvider(news);
  if (holdsUnknown(props)) return Promise.resolve({ inputs });
  const result = EngineHotfixesInputs.safeParse(props);
  if (result.success) return Promise.resolve({ inputs });
  const failures = result.error.issues.map((issue) => ({
    property: issue.path.map(String).join(".") || "(inputs)",
    reason: issue.message,
  }));
  return Promise.resolve({ inputs, failures });
}

/** The inputs, checked; undefined while some of them are not known yet. */
export function parseInputs(props: unknown): EngineHotfixesInputs | undefined {
  const rest = withoutProvider(props);
  if (holdsUnknown(rest)) return undefined;
  return EngineHotfixesInputs.parse(rest);
}
