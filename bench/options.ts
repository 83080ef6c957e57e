/** The bench's command line (see run.ts). */
export interface Options {
  readonly sizes: readonly number[];
  readonly stepDelayMs: number;
  readonly maxUnavailable: readonly number[];
  readonly runs: number;
  readonly cpuProfDir: string | undefined;
  readonly engineEnv: Readonly<Record<string, string>>;
  readonly ansible: boolean;
}

const valueOptions = ["sizes", "delay-ms", "max-unavailable", "runs", "cpu-prof-dir", "engine-env"];

/** `--name value` as `--name=value`; unknown options are refused rather than ignored. */
function normalizedArguments(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = /^--([a-z-]+)/.exec(arg)?.[1];
    if (name === undefined || (!valueOptions.includes(name) && name !== "no-ansible")) {
      throw new Error(`unknown argument ${arg}; options: ${valueOptions.map((o) => `--${o}`).join(" ")} --no-ansible`);
    }
    if (valueOptions.includes(name) && arg === `--${name}`) {
      const next = argv[i + 1];
      if (next === undefined) throw new Error(`--${name} takes a value`);
      args.push(`${arg}=${next}`);
      i++;
    } else {
      args.push(arg);
    }
  }
  return args;
}

export function parseOptions(rawArgv: readonly string[]): Options {
  const argv = normalizedArguments(rawArgv);
  const value = (name: string): string | undefined =>
    argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const list = (name: string, fallback: readonly number[]): number[] => {
    const numbers = (value(name) ?? fallback.join(",")).split(",").map(Number);
    if (numbers.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name} takes positive integers`);
    return numbers;
  };
  const stepDelayMs = Number(value("delay-ms") ?? "20");
  if (!Number.isInteger(stepDelayMs) || stepDelayMs < 1) throw new Error("--delay-ms takes a positive integer");
  return {
    sizes: list("sizes", [1, 10, 50, 200]),
    stepDelayMs,
    maxUnavailable: list("max-unavailable", [1, 10]),
    runs: list("runs", [3])[0]!,
    cpuProfDir: value("cpu-prof-dir"),
    engineEnv: Object.fromEntries(
      argv
        .filter((arg) => arg.startsWith("--engine-env="))
        .map((arg) => {
          const match = /^--engine-env=([A-Z_][A-Z0-9_]*)=(.*)$/.exec(arg);
          if (!match) throw new Error(`--engine-env takes NAME=VALUE, not ${arg.slice(13)}`);
          return [match[1]!, match[2]!];
        }),
    ),
    ansible: !argv.includes("--no-ansible"),
  };
}
