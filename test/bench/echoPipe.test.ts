import { renderScript } from "../../components/host/scriptAssembly";
import { bootstrapCommandLine } from "../../components/host/invocation";
import { hostScripts } from "../../components/runbook/hostScripts";
import { echoPipeCommandLine } from "../../bench/echoPipe";
import { engineNames, fleetPlan } from "../../bench/fleets";
import { parseInput, readCommandLine } from "../../simulator/commandLine";
import { commandLineLimits, type SimulatedHost } from "../../simulator/server";
import { kb952089, kbFile } from "../support/targets";

const hosts: SimulatedHost[] = engineNames(1).map((name) => ({
  name,
  kind: "engine",
  address: "127.0.0.1",
  port: 40000,
  hostKeySha256: `SHA256:${Buffer.alloc(32, 1).toString("base64").replace(/=+$/, "")}`,
}));
const engine = fleetPlan("test-bench-echo-pipe", hosts).engines[0]!;

describe("echoPipeCommandLine", () => {
  test("is echo of the script's base64, piped into the product's bootstrap", () => {
    const probe = hostScripts.probe(engine);
    const line = echoPipeCommandLine(probe);
    const encoded = Buffer.from(renderScript(probe), "utf8").toString("base64");
    expect(line).toBe(`echo ${encoded}| ${bootstrapCommandLine}`);
    expect(line.length).toBeLessThanOrEqual(commandLineLimits.cmd);
  });

  test("is accepted by a simulated cmd.exe host, which reads the product's probe from it with no payload", () => {
    const probe = hostScripts.probe(engine);
    const accepted = readCommandLine(echoPipeCommandLine(probe), "cmd");
    if (!accepted.ok || accepted.stdin.from !== "echo") throw new Error("not piped from echo");
    expect(parseInput(accepted.stdin.text)).toEqual({
      ok: true,
      command: {
        kind: "script",
        script: { name: "probe", params: probe.params, text: renderScript(probe) },
        payload: "",
      },
    });
  });

  test("refuses a script with a payload: stage-package", () => {
    const stage = hostScripts.stagePackage(engine, engine.packages[0]!, "TVqQAAMAAAAEAAAA");
    expect(() => echoPipeCommandLine(stage)).toThrow(
      "stage-package: its standard input has a payload after the script, which echo cannot send",
    );
  });

  test("refuses a line longer than cmd.exe takes", () => {
    const files = Object.fromEntries(
      [kbFile.name, ...Array.from({ length: 60 }, (_, i) => `File${i}.dll`)].map((file) => [file, kbFile.version]),
    );
    const probe = hostScripts.probe({ ...engine, files: { [kb952089.id]: files } });
    expect(() => echoPipeCommandLine(probe)).toThrow(
      /^probe: echo's command line has \d+ characters; cmd\.exe takes at most 8191$/,
    );
  });
});
