import { catalog } from "../../components/domain/catalog";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFleetFile, parseFleetFile } from "../../simulator/fleetFile";

const credentials = { user: "mps-admin", password: "x" };

describe("fleet file", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "fleet-file-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function fileWith(text: string): string {
    const path = join(dir, `fleet-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, text);
    return path;
  }

  test("the demo fleet: five engines on their own loopback addresses, defaults filled in", () => {
    const fleet = loadFleetFile(join(__dirname, "../../simulator/fleets/demo.yaml"));
    expect(fleet.credentials).toEqual({ user: "mps-admin", password: "demo-only-password" });
    expect(fleet.stepDelaysMs).toEqual({ default: 0 });
    expect(fleet.relays).toEqual([]);
    const engine = (name: string, address: string, version: string): object => ({
      name,
      address,
      port: 2222,
      ssh: true,
      binDir: "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin",
      files: { "Mapsproccntl.dll": version },
      engine: "active",
      complus: "running",
      complusResponding: true,
      comPlusApplication: "Provisioning Engine",
      engineControlProgId: "Provisioning.EngineControl",
      pendingRenames: [],
      defaultShell: "cmd",
      oemCodePage: 437,
      uiCulture: "en-US",
      faults: {},
    });
    expect(fleet.engines).toEqual([
      engine("MPS01", "127.0.10.1", "13.3.600.0"),
      engine("MPS02", "127.0.10.2", "13.3.500.2"),
      engine("MPS03", "127.0.10.3", catalog[0]!.files[0]!.version),
      engine("MPS04", "127.0.10.4", "13.3.1000.0"),
      engine("MPS05", "127.0.10.5", "13.3.609.11"),
    ]);
  });

  test("every problem is reported with the file and its path", () => {
    const path = fileWith(
      [
        "credentials: { user: mps-admin, password: '' }",
        "engines:",
        "  - name: MPS01",
        "    address: 10.0.0.1",
        "    files: { Mapsproccntl.dll: 13.3.609 }",
        "    faults: { installExitCodes: [3010], probeAnswer: nonsense }",
        "  - name: MPS02",
        "    ssh: false",
        "    faults: { rejectAuth: true }",
        "    colour: blue",
      ].join("\n"),
    );
    expect(() => loadFleetFile(path)).toThrow(
      [
        `fleet file ${path} is invalid:`,
        "✖ is empty",
        "  → at credentials.password",
        '✖ Unrecognized key: "colour"',
        "  → at engines[1]",
        "✖ must be an IPv4 loopback address in 127.0.0.0/8",
        "  → at engines[0].address",
        "✖ must be a file version of four numbers, each 0-65535, such as 13.3.609.1",
        '  → at engines[0].files["Mapsproccntl.dll"]',
        '✖ Invalid option: expected one of "garbage"|"empty"|"bad-version"',
        "  → at engines[0].faults.probeAnswer",
        "✖ applies only to an engine with ssh: true",
        "  → at engines[1].faults.rejectAuth",
        "✖ 3010 and 1641 come from installing while COM+ runs; leave complus running instead",
        "  → at engines[0].faults.installExitCodes[0]",
      ].join("\n"),
    );
  });

  test("names must be unambiguous for relays, and fixed endpoints distinct", () => {
    expect(() =>
      parseFleetFile(
        {
          credentials,
          engines: [
            { name: "MPS01", port: 2222, winrmName: "relay01" },
            { name: "mps01", port: 2222 },
            { name: "MPS05", ssh: false, port: 2222 },
          ],
          relays: [{ name: "RELAY01", port: 2222 }],
        },
        "fleet file f.yaml",
      ),
    ).toThrow(
      [
        "fleet file f.yaml is invalid:",
        "✖ mps01 is already used by engines[0].name",
        "  → at engines[1].name",
        "✖ RELAY01 is already used by engines[0].winrmName",
        "  → at relays[0].name",
        "✖ 127.0.0.1:2222 is already used by MPS01",
        "  → at engines[1].port",
        "✖ 127.0.0.1:2222 is already used by MPS01",
        "  → at relays[0].port",
      ].join("\n"),
    );
  });

  test("a YAML syntax error names the file", () => {
    const path = fileWith("credentials: {user: a\nengines: [");
    expect(() => loadFleetFile(path)).toThrow(
      `fleet file ${path} is not valid YAML: Flow map in block collection must be sufficiently indented`,
    );
  });

  test("an engine needs a name, and a fleet at least one engine", () => {
    expect(() => parseFleetFile({ credentials, engines: [] })).toThrow(
      "fleet file is invalid:\n✖ must list at least one engine\n  → at engines",
    );
  });
});
