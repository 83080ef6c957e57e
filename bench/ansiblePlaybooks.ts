import { stringify } from "yaml";
import type { FleetPlan } from "../components/config/fleetPlan";
import type { EngineTarget, MaintenanceSettings } from "../components/domain/target";
import { hostScripts, installLogPath, probedFiles } from "../components/runbook/hostScripts";
import { echoPipeCommandLine } from "./echoPipe";
import { directEndpoint } from "./sshFloor";

/**
 * The Ansible peer's inventory and playbooks, built from the product's own scripts: every `raw`
 * task sends `echo <the product's standard input>| <the product's bootstrap>` for the same step
 * (echoPipeCommandLine of the product's hostScripts), so the hosts run the same bootstrap on the
 * same script for both. The simulated hosts accept nothing else, so no module (which would need a
 * Python or a shell on the host) can run.
 */

/** Ansible's ssh arguments for hosts whose keys are not known beforehand (Ansible checks none). */
export const ansibleSshCommonArgs = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null";

/**
 * The probe's answer lines that show a hotfix's files at their required versions, by hotfix, in
 * the case the probe prints them (the case of probedFiles). A playbook cannot compare versions
 * the way the product does ("or later"): it checks for these exact lines.
 */
export function requiredLines(engine: EngineTarget): Record<string, string[]> {
  const probedName = new Map(probedFiles(engine).map((name) => [name.toLowerCase(), name]));
  return Object.fromEntries(
    engine.packages.map((pkg) => [
      pkg.hotfix,
      Object.entries(engine.files[pkg.hotfix] ?? {}).map(
        ([file, version]) => `file:${probedName.get(file.toLowerCase()) ?? file}=${version}`,
      ),
    ]),
  );
}

type HostVars = Readonly<Record<string, unknown>>;

/** The inventory of the plan's (direct) engines, with `vars(engine)` added to each host. */
export function inventoryYaml(plan: FleetPlan, password: string, vars: (engine: EngineTarget) => HostVars): string {
  const hosts = Object.fromEntries(
    plan.engines.map((engine) => {
      const endpoint = directEndpoint(engine);
      return [
        engine.engine,
        {
          ansible_host: endpoint.host,
          ansible_port: endpoint.port,
          ansible_user: endpoint.user,
          ...vars(engine),
        },
      ];
    }),
  );
  return stringify(
    { all: { vars: { ansible_password: password, ansible_ssh_common_args: ansibleSshCommonArgs }, hosts } },
    { lineWidth: 0 },
  );
}

const allRequired = (engine: EngineTarget): string[] => Object.values(requiredLines(engine)).flat();

/** What a probe playbook needs of each host: the probe's echo pipe and the lines to find. */
export function probeHostVars(engine: EngineTarget): HostVars {
  return { mps_probe: echoPipeCommandLine(hostScripts.probe(engine)), mps_required_lines: allRequired(engine) };
}

/** Jinja: some of `lines` are missing from the answer lines of `result`. */
const lacks = (lines: string, result: string): string => `${lines} | difference(${result}.stdout_lines) | length > 0`;

/**
 * One play, one task: the product's probe on every host, failed where the answer lacks a required
 * file version (or the script failed). On a drifted fleet every host fails: that is the drift.
 */
export function probePlaybook(): string {
  return stringify(
    [
      {
        name: "mps-hotfix probe (the product's probe, piped from echo)",
        hosts: "all",
        gather_facts: false,
        tasks: [
          {
            name: "probe",
            "ansible.builtin.raw": "{{ mps_probe }}",
            register: "probe",
            changed_when: false,
            failed_when: `probe.rc != 0 or (${lacks("mps_required_lines", "probe")})`,
          },
        ],
      },
    ],
    { lineWidth: 0 },
  );
}

/**
 * What an up playbook needs of each host: the scripts of one maintenance as the product's runbook
 * sends them, each as its echo pipe, stage-package left out (see upPlaybook). The install log
 * paths are fixed when the playbook is written (the product stamps each attempt when it starts).
 */
export function upHostVars(engine: EngineTarget, settings: MaintenanceSettings, at: Date): HostVars {
  return {
    mps_probe: echoPipeCommandLine(hostScripts.probe(engine)),
    mps_deactivate_engine: echoPipeCommandLine(hostScripts.deactivateEngine(engine)),
    mps_shutdown_complus: echoPipeCommandLine(
      hostScripts.shutdownComPlus(engine, settings.complusShutdownTimeoutSeconds),
    ),
    mps_install_package: Object.fromEntries(
      engine.packages.map((pkg) => [
        pkg.hotfix,
        echoPipeCommandLine(hostScripts.installPackage(engine, pkg, installLogPath(engine, pkg, at, 1))),
      ]),
    ),
    mps_start_complus: echoPipeCommandLine(hostScripts.startComPlus(engine)),
    mps_activate_engine: echoPipeCommandLine(hostScripts.activateEngine(engine)),
    mps_check_response: echoPipeCommandLine(hostScripts.checkResponse(engine)),
    mps_required: requiredLines(engine),
    mps_required_lines: allRequired(engine),
  };
}

/** The line of check-response's answer that says the COM+ component answered. */
const respondingLine = "complus.responding=yes";

/**
 * The product's maintenance as a playbook, `serial` engines at a time: probe; for an engine that
 * lacks a required version deactivate-engine, shutdown-complus, install-package per outdated
 * hotfix (in `hotfixes` order, the catalog's), verify-files (the probe again, failed unless every
 * version is there), start-complus, activate-engine, check-response (failed unless the COM+
 * component answered). stage-package is not in it: its payload is the whole package, which no
 * echo on an 8,191-character command line carries (the bench stages the package beforehand,
 * untimed, with the product's invocation).
 */
export function upPlaybook(hotfixes: readonly string[], serial: number): string {
  const outdated = lacks("mps_required_lines", "probe");
  const step = (name: string, variable: string): Record<string, unknown> => ({
    name,
    "ansible.builtin.raw": `{{ ${variable} }}`,
    when: outdated,
  });
  return stringify(
    [
      {
        name: "mps-hotfix maintenance (the product's scripts, piped from echo, stage-package left out)",
        hosts: "all",
        gather_facts: false,
        serial,
        tasks: [
          { name: "probe", "ansible.builtin.raw": "{{ mps_probe }}", register: "probe", changed_when: false },
          step("deactivate-engine", "mps_deactivate_engine"),
          step("shutdown-complus", "mps_shutdown_complus"),
          ...hotfixes.map((hotfix) => ({
            name: `${hotfix} install-package`,
            "ansible.builtin.raw": `{{ mps_install_package['${hotfix}'] }}`,
            when: lacks(`mps_required['${hotfix}']`, "probe"),
          })),
          {
            name: "verify-files",
            "ansible.builtin.raw": "{{ mps_probe }}",
            register: "verify",
            changed_when: false,
            when: outdated,
            failed_when: `verify.rc != 0 or (${lacks("mps_required_lines", "verify")})`,
          },
          step("start-complus", "mps_start_complus"),
          step("activate-engine", "mps_activate_engine"),
          {
            name: "check-response",
            "ansible.builtin.raw": "{{ mps_check_response }}",
            register: "response",
            changed_when: false,
            when: outdated,
            failed_when: `response.rc != 0 or '${respondingLine}' not in response.stdout_lines`,
          },
        ],
      },
    ],
    { lineWidth: 0 },
  );
}

/** A play without hosts' work: what starting ansible-playbook costs on this machine. */
export function emptyPlaybook(): string {
  return stringify([{ name: "nothing", hosts: "localhost", connection: "local", gather_facts: false, tasks: [] }]);
}

/** The counts of one host's line in the PLAY RECAP. */
export interface HostRecap {
  readonly ok: number;
  readonly changed: number;
  readonly unreachable: number;
  readonly failed: number;
  readonly skipped: number;
  readonly rescued: number;
  readonly ignored: number;
}

const recapLine =
  /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)\s*$/gm;

/** Host => counts, from ansible-playbook's default output (the last recap wins). */
export function parseRecap(output: string): Record<string, HostRecap> {
  const recap: Record<string, HostRecap> = {};
  for (const m of output.matchAll(recapLine)) {
    const [ok, changed, unreachable, failed, skipped, rescued, ignored] = m.slice(2).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    recap[m[1]!] = { ok, changed, unreachable, failed, skipped, rescued, ignored };
  }
  return recap;
}
