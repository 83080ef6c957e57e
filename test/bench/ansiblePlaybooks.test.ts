import { parse as parseYaml } from "yaml";
import { catalog } from "../../components/domain/catalog";
import { hostScripts, installLogPath } from "../../components/runbook/hostScripts";
import { echoPipeCommandLine } from "../../bench/echoPipe";
import {
  ansibleSshCommonArgs,
  inventoryYaml,
  parseRecap,
  probeHostVars,
  probePlaybook,
  requiredLines,
  upHostVars,
  upPlaybook,
} from "../../bench/ansiblePlaybooks";
import { benchPassword, engineNames, fleetPlan } from "../../bench/fleets";
import type { SimulatedHost } from "../../simulator/server";
import { kbRunbookScripts } from "../support/kbRunbook";

/** Simulated hosts as a fleet process reports them, without starting one. */
function hosts(count: number): SimulatedHost[] {
  return engineNames(count).map((name, i) => ({
    name,
    kind: "engine",
    address: "127.0.0.1",
    port: 40000 + i,
    hostKeySha256: `SHA256:${Buffer.alloc(32, i + 1)
      .toString("base64")
      .replace(/=+$/, "")}`,
  }));
}

const plan = fleetPlan("test-bench-playbooks", hosts(2));
const engine = plan.engines[0]!;
const hotfix = catalog[0]!;

interface Task {
  readonly name: string;
  readonly "ansible.builtin.raw": string;
  readonly when?: string;
  readonly failed_when?: string;
}
interface Play {
  readonly hosts: string;
  readonly gather_facts: boolean;
  readonly serial?: number;
  readonly tasks: readonly Task[];
}
interface Inventory {
  readonly all: {
    readonly vars: Record<string, unknown>;
    readonly hosts: Record<string, Record<string, unknown>>;
  };
}

describe("the Ansible peer's inventory", () => {
  const inventory = parseYaml(inventoryYaml(plan, benchPassword, probeHostVars)) as Inventory;

  test("names every engine with its endpoint, password authentication and no host key checks", () => {
    expect(Object.keys(inventory.all.hosts)).toEqual(plan.engines.map((e) => e.engine));
    expect(inventory.all.vars).toEqual({
      ansible_password: benchPassword,
      ansible_ssh_common_args: ansibleSshCommonArgs,
    });
    expect(ansibleSshCommonArgs).toBe("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null");
    const endpoint = engine.route.kind === "direct" ? engine.route.endpoint : undefined;
    expect(inventory.all.hosts[engine.engine]).toMatchObject({
      ansible_host: endpoint?.host,
      ansible_port: endpoint?.port,
      ansible_user: endpoint?.user,
    });
  });

  test("carries the product's probe as its echo pipe, and the lines of the catalog's versions", () => {
    const vars = inventory.all.hosts[engine.engine]!;
    expect(vars["mps_probe"]).toBe(echoPipeCommandLine(hostScripts.probe(engine)));
    const file = hotfix.files[0]!;
    expect(vars["mps_required_lines"]).toEqual([`file:${file.name}=${file.version}`]);
    expect(requiredLines(engine)).toEqual({ [hotfix.id]: [`file:${file.name}=${file.version}`] });
  });

  test("carries the echo pipe of every maintenance step of the product but stage-package", () => {
    const at = new Date("2008-05-08T11:42:00Z");
    const vars = upHostVars(engine, plan.rollout, at);
    const pkg = engine.packages[0]!;
    expect(vars).toMatchObject({
      mps_probe: echoPipeCommandLine(hostScripts.probe(engine)),
      mps_deactivate_engine: echoPipeCommandLine(hostScripts.deactivateEngine(engine)),
      mps_shutdown_complus: echoPipeCommandLine(
        hostScripts.shutdownComPlus(engine, plan.rollout.complusShutdownTimeoutSeconds),
      ),
      mps_install_package: {
        [pkg.hotfix]: echoPipeCommandLine(hostScripts.installPackage(engine, pkg, installLogPath(engine, pkg, at, 1))),
      },
      mps_start_complus: echoPipeCommandLine(hostScripts.startComPlus(engine)),
      mps_activate_engine: echoPipeCommandLine(hostScripts.activateEngine(engine)),
      mps_check_response: echoPipeCommandLine(hostScripts.checkResponse(engine)),
    });
  });
});

describe("the Ansible peer's playbooks", () => {
  test("the probe: one raw task, no facts, failed when the script fails or a version is missing", () => {
    const [play] = parseYaml(probePlaybook()) as Play[];
    expect(play).toMatchObject({ hosts: "all", gather_facts: false });
    expect(play!.tasks.map((t) => [t.name, t["ansible.builtin.raw"]])).toEqual([["probe", "{{ mps_probe }}"]]);
    expect(play!.tasks[0]!.failed_when).toBe(
      "probe.rc != 0 or (mps_required_lines | difference(probe.stdout_lines) | length > 0)",
    );
  });

  test("the up: the product's maintenance in order, stage-package left out, serial as asked", () => {
    const [play] = parseYaml(upPlaybook([hotfix.id], 10)) as Play[];
    expect(play).toMatchObject({ hosts: "all", gather_facts: false, serial: 10 });
    const scripts = play!.tasks.map((t) => t.name.replace(`${hotfix.id} `, "").replace("verify-files", "probe"));
    expect(scripts).toEqual(kbRunbookScripts.filter((s) => s !== "stage-package"));
    expect(play!.tasks.slice(1).every((t) => t.when !== undefined)).toBe(true);
    expect(play!.tasks.find((t) => t.name === "verify-files")?.failed_when).toContain("verify.stdout_lines");
    expect(play!.tasks.find((t) => t.name === "check-response")?.failed_when).toBe(
      "response.rc != 0 or 'complus.responding=yes' not in response.stdout_lines",
    );
  });
});

describe("parseRecap", () => {
  test("reads every host's counts from the PLAY RECAP", () => {
    const output = [
      "PLAY RECAP *********************************************************************",
      "BENCH001                   : ok=7    changed=5    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   ",
      "BENCH002                   : ok=0    changed=0    unreachable=1    failed=1    skipped=2    rescued=0    ignored=0   ",
      "",
    ].join("\n");
    expect(parseRecap(output)).toEqual({
      BENCH001: { ok: 7, changed: 5, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
      BENCH002: { ok: 0, changed: 0, unreachable: 1, failed: 1, skipped: 2, rescued: 0, ignored: 0 },
    });
  });

  test("finds nothing in output without a recap", () => {
    expect(parseRecap("ERROR! the playbook could not be found\n")).toEqual({});
  });
});
