import { leaseKeyPath } from "../domain/lease";
import { powershellCommandLine, quotePowerShell } from "./powershell";
import type { ScriptName } from "./scriptNames";

/**
 * Every PowerShell script the product sends to a host. Each is a header naming the script, a
 * block of parameter assignments (single-quoted literals only), and a fixed body. Bodies use
 * PowerShell 2.0 and .NET Framework 2.0 only (Windows Server 2003): the allow-list in
 * test/host/powershell2.ts names every cmdlet, parameter, operator, type and member they use, with
 * the Microsoft page that shows it there, and test/host/scripts.output.test.ts holds every script
 * to printing nothing but its `key=value` lines. Every script ends with `exit=<code>` and an
 * explicit exit code, because a relay's Invoke-Command does not carry the remote exit code back.
 *
 * No script travels on a command line. The command line is always the same short bootstrap
 * (`bootstrapCommandLine`, well under cmd.exe's 8,191 characters), which reads the script (base64
 * of its UTF-8 text, on the first line) and the payload (the rest) from standard input.
 */
export type ScriptParams = Readonly<Record<string, string | readonly string[]>>;

export interface HostScript {
  readonly name: ScriptName;
  readonly params: ScriptParams;
  /** The script's payload (the staged package, base64), after the script on standard input. */
  readonly stdin?: string;
}

interface ScriptDefinition {
  readonly params: readonly string[];
  readonly arrays?: readonly string[];
  /** The script takes `param($Payload)`: what follows the script on standard input. */
  readonly payload?: true;
  readonly body: string;
}

const errorTrap = `$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('error=' + ($_.Exception.Message -replace '[\\r\\n]+', ' '))
  Write-Output 'exit=1'
  exit 1
}`;

const comPlusInstances = `function Get-ComPlusInstanceCount($catalog) {
  $apps = $catalog.GetCollection('Applications')
  [void]$apps.Populate()
  $key = $null
  foreach ($app in $apps) { if ($app.Name -eq $ComPlusApplication) { $key = $app.Key } }
  if ($key -eq $null) { throw ('COM+ application not found: ' + $ComPlusApplication) }
  $instances = $catalog.GetCollection('ApplicationInstances')
  [void]$instances.Populate()
  $count = 0
  foreach ($instance in $instances) { if ($instance.Value('Application') -eq $key) { $count++ } }
  return $count
}`;

/**
 * KB952089's symptom: the application runs, but its component no longer answers. One of the
 * application's components (the first in the COM+ catalog) is created in a background job, which
 * runs in a PowerShell process of its own, and waited for at most ResponseTimeoutSeconds: a
 * creation that does not finish by then is a component that does not respond. The job is removed
 * either way (-Force stops it when it is still running).
 */
const comPlusResponse = `function Test-ComPlusResponse($catalog) {
  $apps = $catalog.GetCollection('Applications')
  [void]$apps.Populate()
  $key = $null
  foreach ($app in $apps) { if ($app.Name -eq $ComPlusApplication) { $key = $app.Key } }
  if ($key -eq $null) { throw ('COM+ application not found: ' + $ComPlusApplication) }
  $components = $apps.GetCollection('Components', $key)
  [void]$components.Populate()
  $progId = $null
  foreach ($component in $components) { if ($progId -eq $null) { $progId = $component.Name } }
  if ($progId -eq $null) { throw ('COM+ application has no component: ' + $ComPlusApplication) }
  $job = Start-Job -ScriptBlock { param($componentProgId) $object = New-Object -ComObject $componentProgId } -ArgumentList $progId
  $finished = Wait-Job -Job $job -Timeout ([int]$ResponseTimeoutSeconds)
  $responded = $false
  if ($finished -ne $null) { $responded = $job.JobStateInfo.State -eq 'Completed' }
  [void](Remove-Job -Job $job -Force)
  return $responded
}`;

const success = `Write-Output 'exit=0'
exit 0`;

/**
 * The maintenance lease (README: "The maintenance lease"), kept in HKLM\SOFTWARE with .NET 2.0's
 * registry classes. RegistryKey.CreateSubKey creates the key or opens it for writing
 * (https://learn.microsoft.com/en-us/dotnet/api/microsoft.win32.registrykey.createsubkey);
 * RegistryKey.SetValue writes each field as a REG_SZ string
 * (https://learn.microsoft.com/en-us/dotnet/api/microsoft.win32.registrykey.setvalue);
 * RegistryKey.GetValueNames and GetValue read it back
 * (https://learn.microsoft.com/en-us/dotnet/api/microsoft.win32.registrykey.getvaluenames);
 * RegistryKey.DeleteSubKeyTree removes it
 * (https://learn.microsoft.com/en-us/dotnet/api/microsoft.win32.registrykey.deletesubkeytree), which
 * .NET 2.0 refuses for a key that is not there, so it is removed only after it was opened.
 *
 * Reading who holds the lease and writing it must be one step, or two runs that reach the engine at
 * the same moment could both take it: a named mutex in the Global namespace makes it one across
 * every session on the host (https://learn.microsoft.com/en-us/dotnet/api/system.threading.mutex.-ctor).
 * A mutex whose owner died (a killed PowerShell) is still acquired, with AbandonedMutexException
 * (https://learn.microsoft.com/en-us/dotnet/api/system.threading.abandonedmutexexception).
 *
 * A script given no lease ($LeaseRun empty) neither writes nor removes one. $Lease holds the
 * fields as Name=value; a lease of another run is replaced only when it is the one $LeaseTakeover
 * names (the product saw it had ended); otherwise Set-MaintenanceLease returns the holder, and the
 * script prints lease.held= and fails before its work.
 */
const maintenanceLease = `function Enter-LeaseLock {
  $lock = New-Object -TypeName Threading.Mutex -ArgumentList $false, 'Global\\mps-hotfix-maintenance'
  try { [void]$lock.WaitOne() } catch [Threading.AbandonedMutexException] { $abandoned = $true }
  return $lock
}
function Set-MaintenanceLease {
  if ($LeaseRun -eq '') { return }
  $lock = Enter-LeaseLock
  try {
    $leaseKey = [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey('${leaseKeyPath}')
    try {
      $holder = $leaseKey.GetValue('Run')
      if ($holder -ne $null -and $holder -ne $LeaseRun -and $holder -ne $LeaseTakeover) { return $holder }
      foreach ($field in $Lease) {
        if ($field -match '^([A-Za-z]+)=(.*)$') { [void]$leaseKey.SetValue($Matches[1], $Matches[2]) }
      }
    } finally { [void]$leaseKey.Close() }
  } finally { [void]$lock.ReleaseMutex() }
  return $null
}`;

/** Removes the lease when it is this run's (activate-engine, once the engine is active again). */
const maintenanceLeaseRemoval = `function Remove-MaintenanceLease {
  if ($LeaseRun -eq '') { return }
  $lock = Enter-LeaseLock
  try {
    $leaseKey = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('${leaseKeyPath}')
    if ($leaseKey -ne $null) {
      $holder = $leaseKey.GetValue('Run')
      [void]$leaseKey.Close()
      if ($holder -eq $LeaseRun) { [void][Microsoft.Win32.Registry]::LocalMachine.DeleteSubKeyTree('${leaseKeyPath}') }
    }
  } finally { [void]$lock.ReleaseMutex() }
}`;

/** Takes the lease before the script's work, or refuses the work (lease.held=) while another run holds it. */
const takeLease = `$leaseHolder = Set-MaintenanceLease
if ($leaseHolder -ne $null) {
  Write-Output ('lease.held=' + $leaseHolder)
  throw ('the engine is in maintenance by run ' + $leaseHolder)
}`;

/** The probe's reading of the lease: a lease.<field>= line per field, nothing when there is none. */
const leaseReading = `$leaseKey = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('${leaseKeyPath}')
if ($leaseKey -ne $null) {
  foreach ($field in $leaseKey.GetValueNames()) { Write-Output ('lease.' + $field + '=' + $leaseKey.GetValue($field)) }
  [void]$leaseKey.Close()
}`;

/** The parameters of every script that carries the lease along (see maintenanceLease). */
export const leaseParams = ["LeaseRun", "LeaseTakeover", "Lease"] as const;

/** Where Windows keeps the renames and deletions it carries out at the next restart (under HKEY_LOCAL_MACHINE). */
export const sessionManagerKey = "SYSTEM\\CurrentControlSet\\Control\\Session Manager";

const definitions: Readonly<Record<ScriptName, ScriptDefinition>> = {
  probe: {
    params: ["FilePaths", "EngineName", "EngineControlProgId", "ComPlusApplication", "ResponseTimeoutSeconds"],
    arrays: ["FilePaths"],
    body: `${comPlusInstances}
${comPlusResponse}
foreach ($path in $FilePaths) {
  $name = [IO.Path]::GetFileName($path)
  if (Test-Path -LiteralPath $path) {
    $v = [Diagnostics.FileVersionInfo]::GetVersionInfo($path)
    Write-Output ('file:' + $name + '=' + $v.FileMajorPart + '.' + $v.FileMinorPart + '.' + $v.FileBuildPart + '.' + $v.FilePrivatePart)
  } else {
    Write-Output ('file:' + $name + '=missing')
  }
}
$engine = New-Object -ComObject $EngineControlProgId
if ($engine.IsActive($EngineName)) { Write-Output 'engine=active' } else { Write-Output 'engine=deactivated' }
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
$count = Get-ComPlusInstanceCount $catalog
Write-Output ('complus.instances=' + $count)
if ($count -gt 0) {
  Write-Output 'complus=running'
  if (Test-ComPlusResponse $catalog) { Write-Output 'complus.responding=yes' } else { Write-Output 'complus.responding=no' }
} else {
  Write-Output 'complus=stopped'
}
$sessionManager = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('${sessionManagerKey}')
$pending = $sessionManager.GetValue('PendingFileRenameOperations')
[void]$sessionManager.Close()
$renames = 0
if ($pending -ne $null) {
  foreach ($entry in $pending) {
    Write-Output ('rename.' + $renames + '=' + $entry)
    $renames++
  }
}
Write-Output ('renames=' + $renames)
${leaseReading}
${success}`,
  },
  "stage-package": {
    params: ["StagingDir", "PackageFile"],
    payload: true,
    body: `[void][IO.Directory]::CreateDirectory($StagingDir)
$target = [IO.Path]::Combine($StagingDir, $PackageFile)
$bytes = [Convert]::FromBase64String($Payload)
[void][IO.File]::WriteAllBytes($target, $bytes)
$sha = [Security.Cryptography.SHA256]::Create()
$stream = [IO.File]::OpenRead($target)
try { $hash = $sha.ComputeHash($stream) } finally { [void]$stream.Close() }
$hex = ''
foreach ($byte in $hash) { $hex += $byte.ToString('x2') }
Write-Output ('sha256=' + $hex)
Write-Output ('bytes=' + $bytes.Length)
Write-Output ('path=' + $target)
${success}`,
  },
  "deactivate-engine": {
    params: ["EngineName", "EngineControlProgId", ...leaseParams],
    arrays: ["Lease"],
    body: `${maintenanceLease}
${takeLease}
$engine = New-Object -ComObject $EngineControlProgId
[void]$engine.Deactivate($EngineName)
if ($engine.IsActive($EngineName)) { throw ('engine ' + $EngineName + ' is still active after Deactivate') }
Write-Output 'engine=deactivated'
${success}`,
  },
  "shutdown-complus": {
    params: ["ComPlusApplication", "TimeoutSeconds", ...leaseParams],
    arrays: ["Lease"],
    body: `${comPlusInstances}
${maintenanceLease}
${takeLease}
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
[void]$catalog.ShutdownApplication($ComPlusApplication)
$deadline = [DateTime]::UtcNow.AddSeconds([int]$TimeoutSeconds)
do {
  $count = Get-ComPlusInstanceCount $catalog
  if ($count -eq 0) { break }
  [void][Threading.Thread]::Sleep(500)
} while ([DateTime]::UtcNow -lt $deadline)
Write-Output ('complus.instances=' + $count)
if ($count -gt 0) {
  Write-Output ('error=' + $ComPlusApplication + ' still has ' + $count + ' running instance(s)')
  Write-Output 'exit=2'
  exit 2
}
Write-Output 'complus=stopped'
${success}`,
  },
  "install-package": {
    params: ["PackagePath", "LogPath", ...leaseParams],
    arrays: ["Lease"],
    body: `${maintenanceLease}
${takeLease}
$arguments = '/i "' + $PackagePath + '" /qn /norestart /L*v "' + $LogPath + '"'
$process = [Diagnostics.Process]::Start('msiexec.exe', $arguments)
[void]$process.WaitForExit()
$code = $process.ExitCode
Write-Output ('msiexec.exit=' + $code)
Write-Output ('log=' + $LogPath)
Write-Output ('exit=' + $code)
exit $code`,
  },
  "start-complus": {
    params: ["ComPlusApplication", ...leaseParams],
    arrays: ["Lease"],
    body: `${comPlusInstances}
${maintenanceLease}
${takeLease}
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
[void]$catalog.StartApplication($ComPlusApplication)
$count = Get-ComPlusInstanceCount $catalog
Write-Output ('complus.instances=' + $count)
if ($count -eq 0) { throw ($ComPlusApplication + ' has no running instance after StartApplication') }
Write-Output 'complus=running'
${success}`,
  },
  // The engine is back in rotation once IsActive says so: only then is this run's lease removed.
  "activate-engine": {
    params: ["EngineName", "EngineControlProgId", ...leaseParams],
    arrays: ["Lease"],
    body: `${maintenanceLease}
${maintenanceLeaseRemoval}
${takeLease}
$engine = New-Object -ComObject $EngineControlProgId
[void]$engine.Activate($EngineName)
if (-not $engine.IsActive($EngineName)) { throw ('engine ' + $EngineName + ' is not active after Activate') }
Write-Output 'engine=active'
[void](Remove-MaintenanceLease)
${success}`,
  },
  // After the engine is back: whether its COM+ application's component answers (see comPlusResponse).
  "check-response": {
    params: ["ComPlusApplication", "ResponseTimeoutSeconds"],
    body: `${comPlusInstances}
${comPlusResponse}
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
$count = Get-ComPlusInstanceCount $catalog
Write-Output ('complus.instances=' + $count)
if ($count -eq 0) { throw ($ComPlusApplication + ' has no running instance') }
if (Test-ComPlusResponse $catalog) { Write-Output 'complus.responding=yes' } else { Write-Output 'complus.responding=no' }
${success}`,
  },
  "read-install-log": {
    params: ["LogPath", "Lines"],
    body: `if (Test-Path -LiteralPath $LogPath) {
  $all = [IO.File]::ReadAllLines($LogPath)
  $from = $all.Length - [int]$Lines
  $index = 0
  foreach ($line in $all) {
    if ($index -ge $from) { Write-Output ('log:' + $line) }
    $index++
  }
} else {
  Write-Output ('error=no install log at ' + $LogPath)
}
${success}`,
  },
  // Whether Windows Installer is still installing (it holds Global\\_MSIExecute until it is done), and
  // once it is not, the result its verbose log records for the install at LogPath.
  "installer-status": {
    params: ["LogPath"],
    body: `$running = $true
try {
  $mutex = [Threading.Mutex]::OpenExisting('Global\\_MSIExecute')
  [void]$mutex.Close()
} catch [Threading.WaitHandleCannotBeOpenedException] {
  $running = $false
}
if ($running) {
  Write-Output 'installer=running'
} else {
  Write-Output 'installer=idle'
  $result = 'none'
  if (Test-Path -LiteralPath $LogPath) {
    foreach ($line in [IO.File]::ReadAllLines($LogPath)) {
      if ($line -match 'MainEngineThread is returning (-?[0-9]+)') { $result = $Matches[1] }
    }
    Write-Output 'log=present'
  } else {
    Write-Output 'log=absent'
  }
  Write-Output ('log.result=' + $result)
}
${success}`,
  },
};

export const scriptHeaderPrefix = "# mps-hotfix script=";
export const relayHeader = "# mps-hotfix relay";
export const endOfParameters = "# end of parameters";
export const payloadParam = "param($Payload)";
/** A relay's exit code when WinRM could not connect to the engine, or lost the connection: the step may not have run. */
export const relayUnreachableExitCode = 20;
/** A relay's exit code when the step failed with an error of its own, or one raised on the engine without an answer. */
export const relayFailedExitCode = 21;

export function scriptDefinition(name: ScriptName): ScriptDefinition {
  return definitions[name];
}

function renderParam(name: string, value: string | readonly string[]): string {
  const literal = typeof value === "string" ? quotePowerShell(value) : `@(${value.map(quotePowerShell).join(", ")})`;
  return `$${name} = ${literal}`;
}

function checkParams(name: ScriptName, params: ScriptParams): void {
  const definition = definitions[name];
  const expected = [...definition.params].sort().join(",");
  const given = Object.keys(params).sort().join(",");
  if (expected !== given) throw new Error(`script ${name} takes parameters ${expected}, given ${given}`);
  for (const param of definition.params) {
    const isArray = definition.arrays?.includes(param) ?? false;
    if (isArray !== Array.isArray(params[param])) {
      throw new Error(`script ${name}: parameter ${param} must be ${isArray ? "a list" : "a string"}`);
    }
  }
}

/** The parameters a script renders with: one that carries the lease and is given none of its parameters gets them empty. */
export function renderedParams(script: Pick<HostScript, "name" | "params">): ScriptParams {
  return withLeaseDefaults(definitions[script.name], script.params);
}

function withLeaseDefaults(definition: ScriptDefinition, params: ScriptParams): ScriptParams {
  if (!definition.params.includes("LeaseRun") || leaseParams.some((name) => name in params)) return params;
  return { ...params, LeaseRun: "", LeaseTakeover: "", Lease: [] };
}

/** The text of one script as the engine runs it, directly or through a relay: the same either way. */
export function renderScript(script: Pick<HostScript, "name" | "params">): string {
  const definition = definitions[script.name];
  const params = withLeaseDefaults(definition, script.params);
  checkParams(script.name, params);
  const lines = [`${scriptHeaderPrefix}${script.name}`];
  if (definition.payload) lines.push(payloadParam);
  for (const param of definition.params) lines.push(renderParam(param, params[param]!));
  lines.push(endOfParameters, errorTrap, definition.body);
  return lines.join("\n") + "\n";
}

/**
 * A relay script: runs an engine's script through Invoke-Command (WinRM) from a management host,
 * passing its payload on. The engine's script travels as base64 of its UTF-8 text, so it needs no
 * quoting at all. A WinRM failure (no connection, a lost one, access denied) is told apart from an
 * error raised by the engine's script: `relay.winrm=` and exit 20, or `relay.error=` and exit 21.
 */
export function renderRelayScript(engineHost: string, innerScript: string): string {
  return `${relayHeader}
${payloadParam}
${renderParam("Engine", engineHost)}
${renderParam("InnerScript", Buffer.from(innerScript, "utf8").toString("base64"))}
${endOfParameters}
$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('relay.error=' + ($_.Exception.Message -replace '[\\r\\n]+', ' '))
  Write-Output 'exit=${relayFailedExitCode}'
  exit ${relayFailedExitCode}
}
$inner = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($InnerScript))
$remoteErrors = $null
$lines = Invoke-Command -ComputerName $Engine -ScriptBlock ([ScriptBlock]::Create($inner)) -ArgumentList $Payload -ErrorAction SilentlyContinue -ErrorVariable remoteErrors
foreach ($failure in $remoteErrors) {
  if ($failure.Exception -is [Management.Automation.Remoting.PSRemotingTransportException]) {
    Write-Output ('relay.winrm=' + ($failure.Exception.Message -replace '[\\r\\n]+', ' '))
    Write-Output 'exit=${relayUnreachableExitCode}'
    exit ${relayUnreachableExitCode}
  }
}
$code = $null
foreach ($line in $lines) {
  Write-Output $line
  if ("$line" -match '^exit=(-?[0-9]+)$') { $code = [int]$Matches[1] }
}
if ($code -eq $null) {
  foreach ($failure in $remoteErrors) { throw $failure.Exception }
  $code = 1
}
exit $code
`;
}

/**
 * The only script that travels on a command line. It makes the output encoding explicit (UTF-8
 * without a byte order mark; PowerShell 2.0 otherwise writes redirected output in the console's
 * OEM code page) and says which one is in force, then reads the script to run (base64 of its
 * UTF-8 text) from the first line of standard input and its payload from the rest, and runs it.
 * The script's own `exit` ends powershell.exe with the script's exit code.
 */
export const bootstrapScript = `# mps-hotfix bootstrap
$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('error=' + ($_.Exception.Message -replace '[\\r\\n]+', ' '))
  Write-Output 'exit=1'
  exit 1
}
try { [Console]::OutputEncoding = New-Object -TypeName Text.UTF8Encoding -ArgumentList $false } catch { $encodingError = $_ }
Write-Output ('encoding=' + [Console]::OutputEncoding.CodePage)
$mpsInput = [Console]::In
$mpsScript = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($mpsInput.ReadLine()))
$mpsPayload = $mpsInput.ReadToEnd()
& ([ScriptBlock]::Create($mpsScript)) $mpsPayload
`;

/** The one command line the product ever sends to a host, whatever the script, the host or its shell. */
export const bootstrapCommandLine = powershellCommandLine(bootstrapScript);

/** The first line the bootstrap prints: the code page its output is written in. */
export const encodingKey = "encoding";

/** How a step reaches its engine: straight over SSH, or over SSH to a relay that uses WinRM. */
export type Route = { readonly kind: "direct" } | { readonly kind: "relay"; readonly engineHost: string };

/** What goes over SSH for one script: the bootstrap command line, and the script and its payload as its input. */
export interface Invocation {
  readonly commandLine: string;
  readonly stdin: string;
}

/** The script as the host runs it on a route: the engine's script, or the relay script wrapping it. */
export function scriptTextFor(script: HostScript, route: Route): string {
  const inner = renderScript(script);
  return route.kind === "direct" ? inner : renderRelayScript(route.engineHost, inner);
}

export function invocationFor(script: HostScript, route: Route): Invocation {
  const text = Buffer.from(scriptTextFor(script, route), "utf8").toString("base64");
  return { commandLine: bootstrapCommandLine, stdin: `${text}\n${script.stdin ?? ""}` };
}
