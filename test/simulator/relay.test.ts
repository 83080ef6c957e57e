import type { SimulatedFleet } from "../../simulator/server";
import { takeDownScripts } from "../support/kbRunbook";
import {
  answer,
  connect,
  connectError,
  direct,
  fixedTime,
  hostNamed,
  logPathOf,
  packagePath,
  packageSha256,
  packageBytes,
  run,
  scripts,
  startFleet,
  steps,
  via,
  execScript,
  nextStep,
} from "./helpers";

const dll = { "Mapsproccntl.dll": "13.3.600.0" };
const unreachable = (name: string): string =>
  `Connecting to remote server ${name} failed with the following error message : WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled and allows access from this computer. For more information, see the about_Remote_Troubleshooting Help topic.`;
const connectionLost = (name: string): string =>
  `Processing data from remote server ${name} failed with the following error message: The WinRM client cannot process the request because the connection to the server was lost. For more information, see the about_Remote_Troubleshooting Help topic.`;

describe("relays: Invoke-Command from a management host to engines without SSH", () => {
  let fleet: SimulatedFleet;
  beforeEach(async () => {
    fleet = await startFleet({
      engines: [
        { name: "MPS05", ssh: false, winrmName: "mps05.corp.example", files: dll },
        { name: "MPS06", ssh: false, files: dll, faults: { winrmUnreachable: true } },
        {
          name: "MPS07",
          ssh: false,
          files: dll,
          faults: { dropConnectionAfter: "activate-engine", hangOnScript: "probe" },
        },
        { name: "MPS08", ssh: false, files: dll, faults: { probeAnswer: "empty" } },
        { name: "MPS01", files: dll },
      ],
      relays: [
        { name: "RELAY01" },
        { name: "RELAY02", faults: { refuseConnections: true } },
        { name: "RELAY03", faults: { rejectAuth: true } },
      ],
    });
  });
  afterEach(() => fleet.stop());
  const relay = () => hostNamed(fleet, "RELAY01");

  test("only engines with SSH and relays listen", () => {
    expect(fleet.hosts.map((host) => [host.name, host.kind])).toEqual([
      ["MPS01", "engine"],
      ["RELAY01", "relay"],
      ["RELAY02", "relay"],
      ["RELAY03", "relay"],
    ]);
  });

  test("the whole runbook through a relay: the engine's lines and exit codes pass through", async () => {
    const route = via("mps05.corp.example");
    expect(await run(relay(), scripts.probe("MPS05"), route)).toEqual(
      answer([
        "file:Mapsproccntl.dll=13.3.600.0",
        "engine=active",
        "complus.instances=1",
        "complus=running",
        "complus.responding=yes",
        "renames=0",
        "exit=0",
      ]),
    );
    expect(await run(relay(), scripts.stage(), route)).toEqual(
      answer([`sha256=${packageSha256}`, `bytes=${packageBytes.length}`, `path=${packagePath}`, "exit=0"]),
    );
    expect(await run(relay(), scripts.deactivate("MPS05"), route)).toEqual(answer(["engine=deactivated", "exit=0"]));
    expect(await run(relay(), scripts.shutdown(), route)).toEqual(
      answer(["complus.instances=0", "complus=stopped", "exit=0"]),
    );
    expect(await run(relay(), scripts.install("MPS05"), route)).toEqual(
      answer(["msiexec.exit=0", `log=${logPathOf("MPS05")}`, "exit=0"]),
    );
    expect(await run(relay(), scripts.start(), route)).toEqual(
      answer(["complus.instances=1", "complus=running", "exit=0"]),
    );
    expect(await run(relay(), scripts.activate("MPS05"), route)).toEqual(answer(["engine=active", "exit=0"]));
    expect(fleet.host("MPS05")).toMatchObject({
      files: { "Mapsproccntl.dll": "13.3.609.1" },
      engine: "active",
      complus: "running",
      complusResponding: true,
    });

    const order = [...takeDownScripts, "install-package", "start-complus", "activate-engine"];
    expect(fleet.log()).toEqual(
      order.flatMap((script, index) => [
        { seq: index * 2 + 1, at: fixedTime, host: "RELAY01", script: "connect" },
        { seq: index * 2 + 2, at: fixedTime, host: "MPS05", via: "RELAY01", script, exitCode: 0 },
      ]),
    );
  });

  test("a non-zero exit= line becomes the relay's exit code, and a symptom names the relay", async () => {
    await run(relay(), scripts.stage(), via("MPS05"));
    expect(await run(relay(), scripts.install("MPS05"), via("MPS05"))).toEqual({
      ...answer(["msiexec.exit=3010", `log=${logPathOf("MPS05")}`, "exit=3010"]),
      exitCode: 3010,
    });
    await run(relay(), scripts.shutdown(), via("mps05"));
    expect(steps(fleet).slice(-2)).toEqual([
      { seq: 6, host: "MPS05", via: "RELAY01", script: "shutdown-complus", exitCode: 0 },
      {
        seq: 7,
        host: "MPS05",
        via: "RELAY01",
        script: "symptom",
        detail:
          "shutdown-complus: COM+ application 'Provisioning Engine' was shut down while engine MPS05 was active: the component stops responding until the server restarts (KB952089)",
      },
    ]);
  });

  test("an engine the relay cannot reach over WinRM: relay.winrm naming it, exit 20", async () => {
    expect(await run(relay(), scripts.probe("MPS06"), via("MPS06"))).toEqual({
      ...answer([`relay.winrm=${unreachable("MPS06")}`, "exit=20"]),
      exitCode: 20,
    });
    expect(await run(relay(), scripts.probe("MPS99"), via("mps99.corp.example"))).toEqual({
      ...answer([
        "relay.winrm=Connecting to remote server mps99.corp.example failed with the following error message : WinRM cannot process the request because the computer name mps99.corp.example cannot be resolved. For more information, see the about_Remote_Troubleshooting Help topic.",
        "exit=20",
      ]),
      exitCode: 20,
    });
    expect(steps(fleet).filter((_, index) => index % 2 === 1)).toEqual([
      { seq: 2, host: "MPS06", via: "RELAY01", script: "probe", exitCode: 20, detail: unreachable("MPS06") },
      {
        seq: 4,
        host: "mps99.corp.example",
        via: "RELAY01",
        script: "probe",
        exitCode: 20,
        detail:
          "Connecting to remote server mps99.corp.example failed with the following error message : WinRM cannot process the request because the computer name mps99.corp.example cannot be resolved. For more information, see the about_Remote_Troubleshooting Help topic.",
      },
    ]);
  });

  test("engine faults behind a relay: a lost WinRM connection after the step is exit 20, a hang is a hang", async () => {
    await run(relay(), scripts.deactivate("MPS07"), via("MPS07"));
    expect(await run(relay(), scripts.activate("MPS07"), via("MPS07"))).toEqual({
      ...answer([`relay.winrm=${connectionLost("MPS07")}`, "exit=20"]),
      exitCode: 20,
    });
    expect(fleet.host("MPS07").engine).toBe("active");

    const client = await connect(relay());
    const hung = nextStep(fleet, (step) => step.host === "MPS07" && step.script === "probe");
    const pending = execScript(client, scripts.probe("MPS07"), via("MPS07"));
    await hung;
    client.end();
    expect(await pending).toEqual({ stdout: "", stderr: "", exitCode: null });
    expect(steps(fleet).filter((step) => (step as { script: string }).script !== "connect")).toEqual([
      { seq: 2, host: "MPS07", via: "RELAY01", script: "deactivate-engine", exitCode: 0 },
      {
        seq: 4,
        host: "MPS07",
        via: "RELAY01",
        script: "activate-engine",
        exitCode: 20,
        detail: `fault dropConnectionAfter: the script took effect; connection destroyed before its exit status: ${connectionLost("MPS07")}`,
      },
      {
        seq: 6,
        host: "MPS07",
        via: "RELAY01",
        script: "probe",
        detail: "fault hangOnScript: accepted and never answered",
      },
    ]);
  });

  test("no exit= line from the engine: the relay's exit code is 1", async () => {
    expect(await run(relay(), scripts.probe("MPS08"), via("MPS08"))).toEqual({ ...answer([]), exitCode: 1 });
  });

  test("a relay runs relay scripts only", async () => {
    expect(await run(relay(), scripts.probe("MPS05"), direct)).toEqual({
      stdout: "",
      stderr:
        "mps-simulator: refusing the command: this is a relay host; it runs relay scripts, not engine scripts\r\n",
      exitCode: 1,
    });
  });

  test("relay faults: refused connections and rejected authentication", async () => {
    const refused = hostNamed(fleet, "RELAY02");
    expect(await connectError(refused)).toBe(`connect ECONNREFUSED ${refused.address}:${refused.port}`);
    expect(await connectError(hostNamed(fleet, "RELAY03"))).toBe("All configured authentication methods failed");
    expect(steps(fleet)).toEqual([
      { seq: 1, host: "RELAY03", script: "connect" },
      { seq: 2, host: "RELAY03", script: "auth-rejected", detail: "password for mps-admin: fault rejectAuth" },
    ]);
    expect(fleet.connectionCount()).toBe(1);
  });
});
