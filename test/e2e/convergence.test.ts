import type { EngineEvent } from "@pulumi/pulumi/automation";
import { buildDriftReport, DriftReport, renderMarkdown } from "../../cli/driftReport";
import { previewFleet } from "../../cli/workspace";
import { hotfixSteps, isHotfixResource } from "../../cli/hotfixSteps";
import { renderRolloutSummary, summarizeRollout } from "../../cli/rolloutSummary";
import { kbRunbookScripts } from "../support/kbRunbook";
import { kbFile, requiredVersion, scenarioFor } from "./scenario";

const runbookOrder = kbRunbookScripts;

describe("a mixed fleet: preview shows drift, up converges, the next preview is clean", () => {
  const scenario = scenarioFor("converge", {
    engines: [
      { name: "MPS01", files: { [kbFile]: "13.3.600.0" } },
      { name: "MPS02", files: { [kbFile]: "13.3.500.2" } },
      { name: "MPS03", files: { [kbFile]: requiredVersion } },
      { name: "MPS04", files: { [kbFile]: "13.3.1000.0" } },
    ],
  });

  it("adopts the fleet without changing any host", async () => {
    const adopted = await scenario().up({ adoptOnly: true });
    expect(adopted.steps).toEqual({
      "fleet-mps01-hotfixes": "create",
      "fleet-mps02-hotfixes": "create",
      "fleet-mps03-hotfixes": "create",
      "fleet-mps04-hotfixes": "create",
    });
    expect(
      scenario()
        .sim.log()
        .filter((r) => r.script !== "connect")
        .map((r) => r.script),
    ).toEqual(["probe", "probe", "probe", "probe"]);
    expect(scenario().sim.host("MPS01").files).toEqual({ [kbFile]: "13.3.600.0" });
  });

  it("previews drift on exactly the two old engines, file by file", async () => {
    const before = scenario().sim.log().length;
    const preview = await scenario().preview();
    expect(preview.steps).toEqual({
      "fleet-mps01-hotfixes": "update",
      "fleet-mps02-hotfixes": "update",
      "fleet-mps03-hotfixes": "same",
      "fleet-mps04-hotfixes": "same",
    });
    expect(preview.output).toContain(`${kbFile}: "13.3.600.0" => "${requiredVersion}"`);
    expect(preview.output).toContain(`${kbFile}: "13.3.500.2" => "${requiredVersion}"`);
    expect(preview.output).not.toContain('"13.3.1000.0" =>');
    const scripts = scenario()
      .sim.log()
      .slice(before)
      .filter((r) => r.script !== "connect");
    expect(scripts.every((r) => r.script === "probe")).toBe(true);

    const report = buildDriftReport(scenario().stackName, hotfixSteps(preview.events));
    expect(DriftReport.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.summary).toEqual({ KB952089: { needWork: 2, engines: 4 } });
    expect(renderMarkdown(report)).toBe(
      [
        `### mps-hotfix drift report: stack \`${scenario().stackName}\``,
        "",
        "**2 of 4 engines need KB952089.**",
        "",
        "| Engine | Hotfix | File | Deployed | Required | Engine state | COM+ | `up` will |",
        "|---|---|---|---|---|---|---|---|",
        `| MPS01 | KB952089 | ${kbFile} | 13.3.600.0 ⚠ | ${requiredVersion} | active | running | run the runbook |`,
        `| MPS02 | KB952089 | ${kbFile} | 13.3.500.2 ⚠ | ${requiredVersion} | active | running | run the runbook |`,
        `| MPS03 | KB952089 | ${kbFile} | ${requiredVersion} | ${requiredVersion} | active | running | nothing (compliant) |`,
        `| MPS04 | KB952089 | ${kbFile} | 13.3.1000.0 | ${requiredVersion} | active | running | nothing (compliant) |`,
        "",
      ].join("\n"),
    );
    expect(report.engines[0]).toEqual({
      engine: "MPS01",
      hotfix: "KB952089",
      action: "runbook",
      files: [{ name: kbFile, deployed: "13.3.600.0", required: requiredVersion, compliant: false }],
      engineState: "active",
      comPlusState: "running",
      comPlusResponding: true,
      restartPending: false,
      needsWork: true,
      unreachable: null,
    });
  });

  it("up runs the runbook on the drifted engines, one at a time, and leaves them in rotation", async () => {
    const before = scenario().sim.log().length;
    const up = await scenario().up();
    expect(up.steps).toEqual({
      "fleet-mps01-hotfixes": "update",
      "fleet-mps02-hotfixes": "update",
      "fleet-mps03-hotfixes": "same",
      "fleet-mps04-hotfixes": "same",
    });
    const records = scenario()
      .sim.log()
      .slice(before)
      .filter((r) => r.script !== "connect");
    const byHost = (host: string): string[] => records.filter((r) => r.host === host).map((r) => r.script);
    // The refresh probes every engine first; then the runbook, in the article's order.
    expect(byHost("MPS01")).toEqual(["probe", ...runbookOrder]);
    expect(byHost("MPS02")).toEqual(["probe", ...runbookOrder]);
    expect(byHost("MPS03")).toEqual(["probe"]);
    expect(byHost("MPS04")).toEqual(["probe"]);
    const lastOfMps01 = Math.max(...records.filter((r) => r.host === "MPS01").map((r) => r.seq));
    const runbookOfMps02 = records.filter((r) => r.host === "MPS02" && r.script !== "probe").map((r) => r.seq);
    expect(Math.min(...runbookOfMps02)).toBeGreaterThan(lastOfMps01);
    expect(records.filter((r) => r.script === "symptom")).toEqual([]);
    for (const name of ["MPS01", "MPS02"]) {
      const host = scenario().sim.host(name);
      expect(host.files).toEqual({ [kbFile]: requiredVersion });
      expect(host.engine).toBe("active");
      expect(host.complus).toBe("running");
      expect(host.complusResponding).toBe(true);
    }
    expect(up.output).toMatch(/\[MPS01 1 of 4\] KB952089 install-package: done \(\d+\.\ds\)/);
    expect(up.output).toMatch(/\[MPS02 2 of 4\] deactivate-engine: done \(\d+\.\ds\)/);
    expect(up.output).not.toMatch(/\[MPS0\d \d of 4\] KB952089 (deactivate-engine|shutdown-complus|start-complus)/);
    expect(renderRolloutSummary(summarizeRollout(["MPS01", "MPS02", "MPS03", "MPS04"], up.events))).toBe(
      [
        "Rollout summary:",
        "  2 patched (MPS01, MPS02)",
        "  2 already compliant (MPS03, MPS04)",
        "  0 failed",
        "  0 skipped: the rollout halted before them",
      ].join("\n"),
    );
  });

  it("exports fleet compliance as stack outputs", async () => {
    const outputs = await (await scenario().stack()).outputs();
    expect(outputs["compliantEngines"]?.value).toBe(4);
    expect(outputs["totalEngines"]?.value).toBe(4);
    const compliance = outputs["compliance"]?.value as { engines: Record<string, unknown> };
    expect(compliance.engines["MPS04"]).toEqual({
      compliant: true,
      hotfixes: {
        KB952089: {
          compliant: true,
          fileVersions: { [kbFile]: "13.3.1000.0" },
          engineState: "active",
          comPlusState: "running",
          restartPending: false,
          drift: [],
        },
      },
    });
  });

  it("has nothing to change on the next preview, and its refresh changes nothing either", async () => {
    const stack = await scenario().stack();
    const events: EngineEvent[] = [];
    const result = await previewFleet(stack, { expectNoChanges: true, onEvent: (e) => events.push(e) });
    expect(result.changeSummary).toEqual({ same: 11 });
    // MPS04 carries a newer version than required: its refresh keeps the stack's inputs, so the
    // preview shows no refresh diff for it.
    const refreshes = events.flatMap((event) => {
      const metadata = event.resOutputsEvent?.metadata;
      return metadata?.op === "refresh" && isHotfixResource(metadata.type) ? [metadata] : [];
    });
    expect(refreshes).toHaveLength(4);
    for (const refresh of refreshes) expect(refresh.new?.inputs).toEqual(refresh.old?.inputs);
  });

  it("shows an out-of-band rollback on that engine alone", async () => {
    scenario().sim.alter("MPS03", { files: { [kbFile]: "13.3.500.0" } });
    const preview = await scenario().preview();
    expect(preview.steps).toEqual({
      "fleet-mps01-hotfixes": "same",
      "fleet-mps02-hotfixes": "same",
      "fleet-mps03-hotfixes": "update",
      "fleet-mps04-hotfixes": "same",
    });
    expect(preview.output).toContain(`${kbFile}: "13.3.500.0" => "${requiredVersion}"`);
  });

  it("probes with the credentials the stack's config holds now, not those of the last up", async () => {
    // A password changed in the config (rotated, or mistyped) is what the next preview's refresh
    // logs on with; here every engine refuses the wrong one, which the preview reports.
    const wrong = Object.fromEntries(Object.keys(scenario().credentials).map((name) => [name, { password: "not-it" }]));
    const stack = await scenario().stack();
    await stack.setConfig("mps-hotfix:credentials", { value: JSON.stringify(wrong), secret: true });
    try {
      const reported = await scenario()
        .preview()
        .then(
          (preview) => preview.output,
          (error: unknown) => (error as Error).message,
        );
      expect(reported).toContain("rejected the credentials of user mps-admin");
    } finally {
      await scenario().applyConfig();
    }
  });
});
