import { readFileSync } from "node:fs";
import { join } from "node:path";
import { relayFailedExitCode, relayUnreachableExitCode, type HostScript } from "../../components/host/scriptAssembly";
import { scriptNames } from "../../components/host/scriptNames";
import type { SimulatedFleet } from "../../simulator/server";
import { scriptsByName } from "../host/psAst";
import { direct, hostNamed, nextActivity, run, startFleet, via } from "./helpers";

/**
 * What reaches a host over SSH is the assembly of the files in components/host/powershell, and
 * nothing else: for every step, sent directly and through a relay, the script the simulated host
 * received is rebuilt here from the files themselves, as the layout in scriptAssembly.ts describes it.
 */

const folder = join(__dirname, "..", "..", "components", "host", "powershell");
const fileText = (file: string): string => readFileSync(join(folder, file), "utf8");

/**
 * A file as it is sent: each `. .\<file>` include replaced by that file (and its own), comment and
 * blank lines left out; a step's file with common.ps1 right after its param() line, its first line sent.
 */
function asSent(text: string, kind: "step" | "relay"): string {
  const kept = (lines: string[]): string[] =>
    lines.filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
  const expanded = (lines: string[]): string[] =>
    kept(lines).flatMap((line) => {
      const include = /^\. \.\\(.+\.ps1)$/.exec(line);
      return include === null ? [line] : expanded(fileText(include[1]!).split("\n"));
    });
  const [paramLine, ...body] = expanded(text.split("\n"));
  const common = kind === "step" ? expanded(fileText("common.ps1").split("\n")) : [];
  return `${[paramLine, ...common, ...body].join("\n")}\n`;
}

const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** The header, the parameters' hashtable in the order of the file's param() block, and the file as a script block. */
function assembly(header: string, file: string, params: Readonly<Record<string, string | readonly string[]>>): string {
  const text = fileText(file);
  const paramLine = text.split("\n").find((line) => line.startsWith("param(")) ?? "";
  const declared = [...paramLine.matchAll(/\[[a-z[\]]+\]\$([A-Za-z]+)/g)].map((match) => match[1]!);
  const takesPayload = declared.includes("Payload");
  const entries = declared
    .filter((name) => name !== "Payload")
    .map((name) => {
      const value = params[name]!;
      return `  ${name} = ${typeof value === "string" ? literal(value) : `@(${value.map(literal).join(", ")})`}`;
    });
  return [
    header,
    ...(takesPayload ? ["param($Payload)"] : []),
    "$parameters = @{",
    ...entries,
    ...(takesPayload ? ["  Payload = $Payload"] : []),
    "}",
    "# end of parameters",
    "& {",
    `${asSent(text, file === "relay.ps1" ? "relay" : "step")}} @parameters`,
    "",
  ].join("\n");
}

/** The step's parameters as sent: a script that carries the lease and was given none gets them empty. */
function withLease(script: HostScript): HostScript["params"] {
  const carriesLease = fileText(`${script.name}.ps1`).includes("$LeaseRun");
  return carriesLease && !("LeaseRun" in script.params)
    ? { ...script.params, LeaseRun: "", LeaseTakeover: "", Lease: [] }
    : script.params;
}

describe("the scripts a host receives are the files' assembly, byte for byte", () => {
  let fleet: SimulatedFleet;
  beforeAll(async () => {
    fleet = await startFleet({
      engines: [
        { name: "MPS01", files: { "Mapsproccntl.dll": "13.3.600.0" } },
        { name: "MPS05", ssh: false, winrmName: "mps05.corp.example", files: { "Mapsproccntl.dll": "13.3.600.0" } },
      ],
      relays: [{ name: "RELAY01" }],
    });
  });
  afterAll(() => fleet.stop());

  it.each(scriptNames)("%s, sent directly and through a relay", async (name) => {
    const script = scriptsByName[name];
    const engineScript = assembly(`# mps-hotfix script=${name}`, `${name}.ps1`, withLease(script));

    const directly = nextActivity(fleet, "script-started", (a) => a.host === "MPS01" && a.via === undefined);
    // What the script then does is other tests' business: a received script is all this one reads.
    const answers = [run(hostNamed(fleet, "MPS01"), script, direct)];
    expect((await directly).received).toBe(engineScript);

    const relayed = nextActivity(fleet, "script-started", (a) => a.via === "RELAY01");
    answers.push(run(hostNamed(fleet, "RELAY01"), script, via("mps05.corp.example")));
    expect((await relayed).received).toBe(
      assembly("# mps-hotfix relay", "relay.ps1", {
        Engine: "mps05.corp.example",
        InnerScript: Buffer.from(engineScript, "utf8").toString("base64"),
        UnreachableExitCode: String(relayUnreachableExitCode),
        FailedExitCode: String(relayFailedExitCode),
      }),
    );
    for (const answer of answers) answer.catch(() => undefined);
  });
});
