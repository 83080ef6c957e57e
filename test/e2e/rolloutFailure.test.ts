import { summarizeRollout } from "../../cli/rolloutSummary";
import { scriptsOn, backendText, kbFile, requiredVersion, recordOf, simulatorPassword, scenarioFor } from "./scenario";
import { takeDownScripts } from "../support/kbRunbook";

describe("a failed install on the second engine", () => {
  const scenario = scenarioFor("halt", {
    engines: [
      { name: "MPS01", files: { [kbFile]: "13.3.600.0" } },
      { name: "MPS02", files: { [kbFile]: "13.3.600.0" }, faults: { installExitCodes: [1603] } },
      { name: "MPS03", files: { [kbFile]: "13.3.600.0" } },
    ],
  });

  it("puts the engine back into rotation, names engine, step, exit code and log, and halts the rollout", async () => {
    const failure = await scenario()
      .up()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    const record = recordOf(failure);
    expect(record.steps).toEqual({
      "fleet-mps01-hotfixes": "create",
      "fleet-mps02-hotfixes": "create",
    });
    expect(record.output).toMatch(
      /engine MPS02: step install-package failed: KB952089: msiexec exit code 1603 \(fatal error during installation\); install log C:\\Windows\\Temp\\mps-hotfix\\KB952089-\d{8}-\d{6}-attempt1\.log/,
    );
    expect(record.output).toMatch(
      /\[MPS02 2 of 3\] KB952089 install-package: failed \(\d+\.\ds\): KB952089: msiexec exit code 1603/,
    );
    expect(record.output).not.toContain("[MPS02 2 of 3] KB952089 install-package: done");
    expect(record.output).toContain("MainEngineThread is returning 1603");
    expect(record.output).toContain("engine MPS02 is back in rotation (COM+ application started, engine activated)");

    const scriptsOf = (host: string): string[] => scriptsOn(scenario().sim, host);
    expect(scriptsOf("MPS02")).toEqual([
      ...takeDownScripts,
      "install-package",
      "read-install-log",
      "start-complus",
      "activate-engine",
      "probe",
    ]);
    expect(scriptsOf("MPS03")).toEqual([]);
    expect(summarizeRollout(["MPS01", "MPS02", "MPS03"], record.events)).toEqual({
      patched: ["MPS01"],
      restored: [],
      compliant: [],
      failed: ["MPS02"],
      interrupted: [],
      interruptions: [],
      short: [],
      windowClosed: [],
      skipped: ["MPS03"],
      notResponding: [],
    });
    expect(scenario().sim.connectionCount("MPS03")).toBe(0);
    const mps02 = scenario().sim.host("MPS02");
    expect(mps02.engine).toBe("active");
    expect(mps02.complus).toBe("running");
    expect(mps02.files).toEqual({ [kbFile]: "13.3.600.0" });
    expect(scenario().sim.host("MPS01").files).toEqual({ [kbFile]: requiredVersion });
    // The failed resource's partial state is recorded under the engine's id; no credential is in it.
    const state = backendText();
    expect(state.includes('"id":"MPS02"')).toBe(true);
    expect(state).not.toContain(simulatorPassword);
    expect(record.output).not.toContain(simulatorPassword);
  });

  it("converges on the next up once the install succeeds", async () => {
    const up = await scenario().up();
    expect(up.steps).toEqual({
      "fleet-mps01-hotfixes": "same",
      "fleet-mps02-hotfixes": "update",
      "fleet-mps03-hotfixes": "create",
    });
    for (const name of ["MPS01", "MPS02", "MPS03"]) {
      expect(scenario().sim.host(name).files).toEqual({ [kbFile]: requiredVersion });
    }
  });
});
