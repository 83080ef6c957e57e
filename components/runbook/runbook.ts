import {
  leaseHeldBy,
  parseInstallAnswer,
  parseProbeAnswer,
  parseResponseAnswer,
  parseStageAnswer,
} from "../host/answers";
import { TransportError } from "../host/sshSession";
import type { HostScript } from "../host/scriptAssembly";
import { fileDrift, outdatedHotfixes } from "../domain/drift";
import { leaseSeconds, leaseStanding, leaseText, type LeaseHolder, type MaintenanceLease } from "../domain/lease";
import { inRotation, notResponding, notRespondingReason, type ObservedState } from "../domain/observation";
import type { HotfixPackage } from "../domain/requirement";
import type { EngineTarget, MaintenanceSettings } from "../domain/target";
import { hostScripts, installLogPath, installLogTailLines, probedFiles, type LeaseWrite } from "./hostScripts";
import { classifyMsiexecExit } from "./msiexecExit";
import { waitForInstaller } from "./installerWait";
import { afterLostSession } from "./lostSession";
import { otherRenamesNote, pendingRestartReason } from "./operatorMessages";
import { readProbe, type ProbeReading } from "./observe";
import {
  failureReason,
  InstallerStillBusy,
  LeaseTaken,
  RunbookError,
  StepFailure,
  type Rotation,
} from "./runbookError";
import type { ScriptResult, ScriptRunner, StepContext, StepEvent, StepName, StepStatus } from "./steps";

export interface RunbookDeps {
  readonly runner: ScriptRunner;
  readonly settings: MaintenanceSettings;
  /** The bytes of a hotfix's package, base64, read on the operator's machine. */
  readonly packageBase64: (pkg: HotfixPackage) => string;
  readonly onStep?: (event: StepEvent) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
  /** True once the operator interrupted the run: no further step that takes the engine down starts. */
  readonly interrupted?: () => boolean;
  /**
   * Who runs this maintenance: with it, the runbook keeps a maintenance lease on the engine from
   * before deactivation until the engine is active again, and keeps off engines another run holds.
   */
  readonly lease?: LeaseHolder;
}

/**
 * The KB952089 runbook for one engine, for every hotfix it must carry, in the article's order:
 * stage and verify each outdated hotfix's package, deactivate the engine once, shut down the COM+
 * application once, install each outdated hotfix in catalog order, verify every file, start the
 * COM+ application, activate the engine. A failure at any step after deactivation puts the engine
 * back into rotation before the error is reported, unless the stack asks otherwise.
 */
export class Runbook {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  /** The maintenance under way: when its lease was first written, the run it took over, the install log. */
  private maintenance: { started: string; takeover?: string; log: string } | undefined;
  /** What the recovery after a lost session runs its steps with (lostSession.ts, installerWait.ts). */
  private readonly context: StepContext;

  constructor(
    private readonly target: EngineTarget,
    private readonly deps: RunbookDeps,
  ) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = deps.now ?? (() => new Date());
    this.context = {
      target,
      runner: deps.runner,
      settings: deps.settings,
      stepTimeoutMs: this.stepTimeoutMs,
      sleep: this.sleep,
      emit: (step, status, started, hotfixId, detail) => this.emit(step, status, started, hotfixId, detail),
      probe: (step) => this.probe(step),
    };
  }

  /**
   * The lease a step writes, or none without a lease holder. Every write renews it for
   * leaseSeconds, so a run that is alive never lets it expire.
   */
  private leaseFor(step: StepName): LeaseWrite | undefined {
    const holder = this.deps.lease;
    if (holder === undefined) return undefined;
    const now = this.now();
    this.maintenance ??= { started: now.toISOString(), log: "none" };
    const fields: MaintenanceLease = {
      Stack: leaseText(holder.stack),
      Machine: leaseText(holder.machine),
      User: leaseText(holder.user),
      Run: holder.run,
      Step: step,
      Started: this.maintenance.started,
      Expires: new Date(now.getTime() + this.leaseSeconds * 1000).toISOString(),
      Log: leaseText(this.maintenance.log),
    };
    return { fields, ...(this.maintenance.takeover === undefined ? {} : { takeover: this.maintenance.takeover }) };
  }

  private get leaseSeconds(): number {
    return leaseSeconds(this.deps.settings, this.target.host.responseTimeoutSeconds);
  }

  /** A script refused for another run's lease did none of its work: that run holds the engine. */
  private refuseIfLeaseTaken(step: StepName, result: ScriptResult): void {
    const holder = leaseHeldBy(result.stdout);
    if (holder === undefined) return;
    throw new LeaseTaken(
      step,
      `the engine is in maintenance by run ${holder} (its maintenance lease); this run did not do ${step}`,
    );
  }

  private get stepTimeoutMs(): number {
    return this.deps.settings.stepTimeoutSeconds * 1000;
  }

  private emit(step: StepName, status: StepStatus, started: number, hotfixId?: string, detail?: string): void {
    this.deps.onStep?.({
      engine: this.target.engine,
      ...(hotfixId === undefined ? {} : { hotfixId }),
      step,
      status,
      ...(status === "started" ? {} : { elapsedMs: Date.now() - started }),
      ...(detail === undefined ? {} : { detail }),
    });
  }

  /** Runs one script as one step; a script that exits non-zero fails the step. */
  private async step<T>(
    step: StepName,
    script: HostScript,
    read: (result: ScriptResult) => T,
    options: {
      readonly timeoutMs?: number;
      readonly hotfixId?: string;
      /** A note for the operator on the step's success, from what it read. */
      readonly noteOf?: (value: T) => string | undefined;
    } = {},
  ): Promise<T> {
    const started = Date.now();
    this.emit(step, "started", started, options.hotfixId);
    try {
      const result = await this.deps.runner.run(script, options.timeoutMs ?? this.stepTimeoutMs);
      if (result.exitCode !== 0) {
        this.refuseIfLeaseTaken(step, result);
        throw new StepFailure(step, `exit code ${result.exitCode}: ${failureReason(result)}`, result.exitCode);
      }
      const value = read(result);
      this.emit(step, "succeeded", started, options.hotfixId, options.noteOf?.(value));
      return value;
    } catch (error) {
      const failure =
        error instanceof StepFailure
          ? error
          : new StepFailure(step, (error as Error).message, undefined, undefined, error);
      this.emit(step, "failed", started, options.hotfixId, failure.message);
      throw failure;
    }
  }

  async probe(step: StepName = "probe"): Promise<ObservedState> {
    return (await this.readProbe(step)).observed;
  }

  /**
   * The probe, read against the target; pending renames of other files are noted on its step
   * event. Another run's lease on the engine is part of what it observed (`maintenance`).
   */
  private async readProbe(step: StepName): Promise<ProbeReading> {
    const reading = await this.step(
      step,
      hostScripts.probe(this.target),
      (r) => readProbe(parseProbeAnswer(r.stdout, probedFiles(this.target)), this.target),
      { noteOf: (read) => otherRenamesNote(read) },
    );
    const standing =
      reading.lease === undefined ? undefined : leaseStanding(reading.lease, this.deps.lease, this.now());
    if (standing === undefined || standing.kind === "ours") return reading;
    return { ...reading, observed: { ...reading.observed, maintenance: standing.notice } };
  }

  /**
   * An engine another run left out of rotation (its lease ended, or the operator named its run):
   * wait for Windows Installer as after a lost session, read the files, put the engine back, and
   * take the lease over on the way; the maintenance then goes on as usual.
   */
  private async recoverInterrupted(lease: MaintenanceLease): Promise<ProbeReading> {
    const t = this.target;
    this.maintenance = { started: this.now().toISOString(), takeover: lease.Run, log: lease.Log };
    if (lease.Log !== "none") await this.waitForInstallerLeftBy(lease);
    const reading = await this.readProbe("probe");
    const observed = reading.observed;
    if (observed.comPlusState !== "running" || observed.engineState !== "active") {
      try {
        if (observed.comPlusState !== "running") {
          await this.step(
            "start-complus",
            hostScripts.startComPlus(t, this.leaseFor("start-complus")),
            () => undefined,
          );
        }
        await this.step(
          "activate-engine",
          hostScripts.activateEngine(t, this.leaseFor("activate-engine")),
          () => undefined,
        );
      } catch (error) {
        throw this.asRunbookError(error, "left-out-restore-failed");
      }
    } else {
      // In rotation already (the run died after activating it): only the lease is left to remove.
      await this.step(
        "activate-engine",
        hostScripts.activateEngine(t, this.leaseFor("activate-engine")),
        () => undefined,
      );
    }
    this.maintenance = undefined;
    return this.readProbe("probe");
  }

  /** Before recovering an engine whose lease names an install: Windows Installer must be done with it. */
  private async waitForInstallerLeftBy(lease: MaintenanceLease): Promise<void> {
    const idleNote = `Windows Installer is not installing (after run ${lease.Run}'s ${lease.Step})`;
    const wait = await waitForInstaller(this.context, lease.Log, undefined, idleNote);
    if (wait.kind === "idle") return;
    throw new RunbookError(
      this.target.engine,
      "installer-status",
      `run ${lease.Run} left the engine out of rotation at ${lease.Step}, and ${wait.why} after ${wait.waitSeconds}s of waiting (rollout.installWaitSeconds); install log ${lease.Log}`,
      "left-out-installing",
    );
  }

  /** Brings the engine to its desired state and returns what the final probe saw. */
  async converge(): Promise<ObservedState> {
    const t = this.target;
    let observed: ObservedState;
    let reading: ProbeReading;
    try {
      reading = await this.readProbe("probe");
      const standing =
        reading.lease === undefined ? undefined : leaseStanding(reading.lease, this.deps.lease, this.now());
      if (standing?.kind === "held") {
        throw new RunbookError(t.engine, "probe", `${standing.notice}; no maintenance was started there`, "untouched");
      }
      if (standing?.kind === "interrupted" && reading.lease !== undefined) {
        reading = await this.recoverInterrupted(reading.lease);
      }
      observed = reading.observed;
    } catch (error) {
      throw this.asRunbookError(error, "untouched");
    }
    if (reading.pendingHotfixFiles.length > 0) {
      throw new RunbookError(
        t.engine,
        "probe",
        `${pendingRestartReason(reading)}; restart the host in a change window, then run up again`,
        "untouched",
      );
    }
    if (notResponding(observed)) {
      throw new RunbookError(
        t.engine,
        "probe",
        `not responding: ${notRespondingReason}; restart the server in a change window, then run up again`,
        "untouched",
      );
    }

    const outdated = new Set(
      outdatedHotfixes(
        observed,
        t.files,
        t.packages.map((p) => p.hotfix),
      ),
    );
    const toInstall = t.packages.filter((p) => outdated.has(p.hotfix));
    if (toInstall.length > 0) {
      try {
        for (const pkg of toInstall) await this.stageAndVerify(pkg);
        this.checkInterrupt("deactivate-engine");
      } catch (error) {
        throw this.asRunbookError(error, "untouched");
      }
      try {
        observed = await this.install(toInstall);
      } catch (error) {
        throw await this.restoreAfter(error);
      }
    }

    const touched = toInstall.length > 0 || observed.comPlusState !== "running" || observed.engineState !== "active";
    try {
      // After an install the lease is carried to the activation, which removes it; without a lease
      // (only COM+ to start, say) nothing is written.
      const leased = toInstall.length > 0;
      if (observed.comPlusState !== "running") {
        await this.step(
          "start-complus",
          hostScripts.startComPlus(t, leased ? this.leaseFor("start-complus") : undefined),
          () => undefined,
        );
      }
      if (observed.engineState !== "active") {
        await this.step(
          "activate-engine",
          hostScripts.activateEngine(t, leased ? this.leaseFor("activate-engine") : undefined),
          () => undefined,
        );
      }
    } catch (error) {
      throw await this.restoreAfter(error);
    }
    if (touched) await this.checkResponse();
    return { ...observed, ...inRotation };
  }

  /** Once the engine is back in rotation: its COM+ component must answer, or the engine counts as failed. */
  private async checkResponse(): Promise<void> {
    const t = this.target;
    try {
      await this.step(
        "check-response",
        hostScripts.checkResponse(t),
        (r) => {
          if (parseResponseAnswer(r.stdout).complusResponding === "yes") return;
          throw new StepFailure(
            "check-response",
            `the COM+ component did not answer within ${t.host.responseTimeoutSeconds}s (host.responseTimeoutSeconds) after the engine was activated: ${notRespondingReason}`,
          );
        },
        { timeoutMs: Math.max(this.stepTimeoutMs, (t.host.responseTimeoutSeconds + 30) * 1000) },
      );
    } catch (error) {
      throw this.asRunbookError(error, "in-rotation-not-responding");
    }
  }

  private async stageAndVerify(pkg: HotfixPackage): Promise<void> {
    const script = hostScripts.stagePackage(this.target, pkg, this.deps.packageBase64(pkg));
    await this.step(
      "stage-package",
      script,
      (r) => {
        const staged = parseStageAnswer(r.stdout);
        if (staged.sha256 !== pkg.sha256) {
          throw new StepFailure(
            "stage-package",
            `the ${pkg.hotfix} package staged at ${staged.path} has SHA-256 ${staged.sha256}, the stack pins ${pkg.sha256}; refusing to install it`,
          );
        }
      },
      { hotfixId: pkg.hotfix },
    );
  }

  /** Before each step that takes the engine further down: stop here if the operator interrupted. */
  private checkInterrupt(next: StepName, hotfixId?: string): void {
    if (this.deps.interrupted?.() === true) {
      const what = "interrupted by the operator before this step started";
      throw new StepFailure(next, hotfixId === undefined ? what : `${hotfixId}: ${what}`);
    }
  }

  /** Deactivate and shut down COM+ once, install every outdated hotfix in order, verify every file. */
  private async install(packages: readonly HotfixPackage[]): Promise<ObservedState> {
    const t = this.target;
    const s = this.deps.settings;
    await this.step(
      "deactivate-engine",
      hostScripts.deactivateEngine(t, this.leaseFor("deactivate-engine")),
      () => undefined,
    );
    this.checkInterrupt("shutdown-complus");
    await this.step(
      "shutdown-complus",
      hostScripts.shutdownComPlus(t, s.complusShutdownTimeoutSeconds, this.leaseFor("shutdown-complus")),
      () => undefined,
      { timeoutMs: Math.max(this.stepTimeoutMs, (s.complusShutdownTimeoutSeconds + 30) * 1000) },
    );
    for (const pkg of packages) await this.installOne(pkg);
    return this.step("verify-files", hostScripts.probe(t), (r) => {
      const reading = readProbe(parseProbeAnswer(r.stdout, probedFiles(t)), t);
      const observed = reading.observed;
      const stillOld = t.packages.flatMap((p) =>
        fileDrift(observed, p.hotfix, t.files[p.hotfix] ?? {}).map((reason) => `${p.hotfix}: ${reason}`),
      );
      if (stillOld.length > 0 || observed.restartPending) {
        throw new StepFailure(
          "verify-files",
          `msiexec reported success but ${[...stillOld, ...(observed.restartPending ? [pendingRestartReason(reading)] : [])].join("; ")}`,
        );
      }
      return observed;
    });
  }

  /** One hotfix's msiexec, retried with back-off while another installation runs (1618). */
  private async installOne(pkg: HotfixPackage): Promise<void> {
    const s = this.deps.settings;
    for (let attempt = 1; ; attempt++) {
      this.checkInterrupt("install-package", pkg.hotfix);
      const logPath = installLogPath(this.target, pkg, this.now(), attempt);
      const started = Date.now();
      this.emit("install-package", "started", started, pkg.hotfix);
      let answer: { readonly msiexecExit: number; readonly log: string };
      if (this.maintenance !== undefined) this.maintenance.log = logPath;
      try {
        const result = await this.deps.runner.run(
          hostScripts.installPackage(this.target, pkg, logPath, this.leaseFor("install-package")),
          this.stepTimeoutMs,
        );
        if (result.exitCode !== 0) this.refuseIfLeaseTaken("install-package", result);
        answer = parseInstallAnswer(result.stdout);
      } catch (error) {
        if (error instanceof LeaseTaken) throw error;
        const message = `${pkg.hotfix}: ${(error as Error).message}`;
        this.emit("install-package", "failed", started, pkg.hotfix, message);
        // Windows Installer runs the install on its own time: a lost session does not stop it.
        if (error instanceof TransportError) throw await afterLostSession(this.context, pkg, logPath, error);
        throw new StepFailure("install-package", message, undefined, undefined, error);
      }
      const outcome = classifyMsiexecExit(answer.msiexecExit);
      if (outcome.kind === "installed") {
        this.emit("install-package", "succeeded", started, pkg.hotfix);
        return;
      }
      if (outcome.kind === "busy" && attempt < s.installAttempts) {
        const delay = s.installRetryDelaySeconds * 1000 * 2 ** (attempt - 1);
        this.emit(
          "install-package",
          "retrying",
          started,
          pkg.hotfix,
          `msiexec exit code 1618 (${outcome.meaning}); attempt ${attempt + 1} of ${s.installAttempts} in ${delay / 1000}s`,
        );
        await this.sleep(delay);
        continue;
      }
      const tries = outcome.kind === "busy" ? ` after ${attempt} attempts` : "";
      const advice = outcome.kind === "restart-pending" ? "; the engine is not compliant until the host restarts" : "";
      const summary = `${pkg.hotfix}: msiexec exit code ${answer.msiexecExit} (${outcome.meaning})${tries}${advice}`;
      this.emit("install-package", "failed", started, pkg.hotfix, summary);
      const tail = await this.installLogTail(answer.log);
      throw new StepFailure(
        "install-package",
        `${summary}; install log ${answer.log}${tail}`,
        answer.msiexecExit,
        answer.log,
      );
    }
  }

  private async installLogTail(logPath: string): Promise<string> {
    try {
      const result = await this.deps.runner.run(
        hostScripts.readInstallLog(logPath, installLogTailLines),
        this.stepTimeoutMs,
      );
      const lines = result.stdout
        .split(/\r?\n/)
        .filter((l) => l.startsWith("log:"))
        .map((l) => `    ${l.slice(4)}`);
      return lines.length === 0 ? "" : `\n  last lines of the install log:\n${lines.join("\n")}`;
    } catch {
      return " (the log could not be read)";
    }
  }

  /** After a failure past deactivation: start COM+ and activate the engine, then report. */
  private async restoreAfter(error: unknown): Promise<RunbookError> {
    const t = this.target;
    if (error instanceof InstallerStillBusy) return this.asRunbookError(error, "left-out-installing");
    if (error instanceof LeaseTaken) {
      // Refused before its work: a deactivation that did not happen leaves the engine as it was.
      return this.asRunbookError(error, error.step === "deactivate-engine" ? "untouched" : "held-by-another-run");
    }
    if (this.deps.settings.leaveFailedEngineOut) return this.asRunbookError(error, "left-out-by-request");
    try {
      await this.step("start-complus", hostScripts.startComPlus(t, this.leaseFor("start-complus")), () => undefined);
      await this.step(
        "activate-engine",
        hostScripts.activateEngine(t, this.leaseFor("activate-engine")),
        () => undefined,
      );
      return this.asRunbookError(error, "restored");
    } catch (restoreError) {
      const failed = this.asRunbookError(error, "left-out-restore-failed");
      return new RunbookError(
        failed.engine,
        failed.step,
        `${failed.reason}\n  putting the engine back into rotation failed too: ${(restoreError as Error).message}`,
        "left-out-restore-failed",
        failed.exitCode,
        failed.installLog,
        failed.cause,
      );
    }
  }

  private asRunbookError(error: unknown, rotation: Rotation): RunbookError {
    if (error instanceof RunbookError) return error;
    const failure =
      error instanceof StepFailure
        ? error
        : new StepFailure("probe", (error as Error).message, undefined, undefined, error);
    return new RunbookError(
      this.target.engine,
      failure.step,
      failure.message,
      rotation,
      failure.exitCode,
      failure.installLog,
      failure.cause,
    );
  }
}
