import { powershellCommandLine, quotePowerShell } from "./powershell";
import type { ScriptName } from "./scriptNames";

/**
 * Every PowerShell script the product sends to a host. Each is a header naming the script, a
 * block of parameter assignments (single-quoted literals only), and a fixed body. Bodies use
 * PowerShell 2.0 (Windows Server 2003) only: no ConvertTo-Json, no Get-FileHash. They print
 * `key=value` lines and end with `exit=<code>` and an explicit exit code, because a relay's
 * Invoke-Command does not carry the remote exit code back.
 */
export type ScriptParams = Readonly<Record<string, string | readonly string[]>>;

export interface HostScript {
  readonly name: ScriptName;
  readonly params: ScriptParams;
  /** Bytes written to the command's standard input (the staged package, base64). */
  readonly stdin?: string;
}

/** Where a script reads $Payload from: its own stdin (direct), or Invoke-Command's argument (relay). */
export type PayloadSource = "stdin" | "argument";

interface ScriptDefinition {
  readonly params: readonly string[];
  readonly arrays?: readonly string[];
  readonly payload?: true;
  readonly body: string;
}

const errorTrap = `$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('error=' + ($_.Exception.Message -replace '[\\r\\n]+', ' '))
  Write-Output 'exit=1'
  exit 1
}`;

const engineControl = `function Get-MpsEngineControl { New-Object -ComObject $EngineControlProgId }`;

const comPlusInstances = `function Get-ComPlusInstanceCount($catalog) {
  $apps = $catalog.GetCollection('Applications')
  $apps.Populate()
  $key = $null
  foreach ($app in $apps) { if ($app.Name -eq $ComPlusApplication) { $key = $app.Key } }
  if ($key -eq $null) { throw ('COM+ application not found: ' + $ComPlusApplication) }
  $instances = $catalog.GetCollection('ApplicationInstances')
  $instances.Populate()
  $count = 0
  foreach ($instance in $instances) { if ($instance.Value('Application') -eq $key) { $count++ } }
  return $count
}`;

const success = `Write-Output 'exit=0'
exit 0`;

const definitions: Readonly<Record<ScriptName, ScriptDefinition>> = {
  probe: {
    params: ["FilePaths", "EngineName", "EngineControlProgId", "ComPlusApplication"],
    arrays: ["FilePaths"],
    body: `${engineControl}
${comPlusInstances}
foreach ($path in $FilePaths) {
  $name = [IO.Path]::GetFileName($path)
  if (Test-Path -LiteralPath $path) {
    $v = [Diagnostics.FileVersionInfo]::GetVersionInfo($path)
    Write-Output ('file:' + $name + '=' + $v.FileMajorPart + '.' + $v.FileMinorPart + '.' + $v.FileBuildPart + '.' + $v.FilePrivatePart)
  } else {
    Write-Output ('file:' + $name + '=missing')
  }
}
$engine = Get-MpsEngineControl
if ($engine.IsActive($EngineName)) { Write-Output 'engine=active' } else { Write-Output 'engine=deactivated' }
$count = Get-ComPlusInstanceCount (New-Object -ComObject COMAdmin.COMAdminCatalog)
Write-Output ('complus.instances=' + $count)
if ($count -gt 0) { Write-Output 'complus=running' } else { Write-Output 'complus=stopped' }
$pending = Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager' -Name PendingFileRenameOperations -ErrorAction SilentlyContinue
if ($pending -ne $null) { Write-Output 'restart=pending' } else { Write-Output 'restart=none' }
${success}`,
  },
  "stage-package": {
    params: ["StagingDir", "PackageFile"],
    payload: true,
    body: `[IO.Directory]::CreateDirectory($StagingDir) | Out-Null
$target = [IO.Path]::Combine($StagingDir, $PackageFile)
$bytes = [Convert]::FromBase64String($Payload)
[IO.File]::WriteAllBytes($target, $bytes)
$sha = [Security.Cryptography.SHA256]::Create()
$stream = [IO.File]::OpenRead($target)
try { $hash = $sha.ComputeHash($stream) } finally { $stream.Close() }
Write-Output ('sha256=' + (($hash | ForEach-Object { $_.ToString('x2') }) -join ''))
Write-Output ('bytes=' + $bytes.Length)
Write-Output ('path=' + $target)
${success}`,
  },
  "deactivate-engine": {
    params: ["EngineName", "EngineControlProgId"],
    body: `${engineControl}
$engine = Get-MpsEngineControl
$engine.Deactivate($EngineName)
if ($engine.IsActive($EngineName)) { throw ('engine ' + $EngineName + ' is still active after Deactivate') }
Write-Output 'engine=deactivated'
${success}`,
  },
  "shutdown-complus": {
    params: ["ComPlusApplication", "TimeoutSeconds"],
    body: `${comPlusInstances}
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
$catalog.ShutdownApplication($ComPlusApplication)
$deadline = [DateTime]::UtcNow.AddSeconds([int]$TimeoutSeconds)
do {
  $count = Get-ComPlusInstanceCount $catalog
  if ($count -eq 0) { break }
  Start-Sleep -Milliseconds 500
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
    params: ["PackagePath", "LogPath"],
    body: `$arguments = '/i "' + $PackagePath + '" /qn /norestart /L*v "' + $LogPath + '"'
$process = Start-Process -FilePath 'msiexec.exe' -ArgumentList $arguments -Wait -PassThru
$code = $process.ExitCode
Write-Output ('msiexec.exit=' + $code)
Write-Output ('log=' + $LogPath)
Write-Output ('exit=' + $code)
exit $code`,
  },
  "start-complus": {
    params: ["ComPlusApplication"],
    body: `${comPlusInstances}
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
$catalog.StartApplication($ComPlusApplication)
$count = Get-ComPlusInstanceCount $catalog
Write-Output ('complus.instances=' + $count)
if ($count -eq 0) { throw ($ComPlusApplication + ' has no running instance after StartApplication') }
Write-Output 'complus=running'
${success}`,
  },
  "activate-engine": {
    params: ["EngineName", "EngineControlProgId"],
    body: `${engineControl}
$engine = Get-MpsEngineControl
$engine.Activate($EngineName)
if (-not $engine.IsActive($EngineName)) { throw ('engine ' + $EngineName + ' is not active after Activate') }
Write-Output 'engine=active'
${success}`,
  },
  "read-install-log": {
    params: ["LogPath", "Lines"],
    body: `if (Test-Path -LiteralPath $LogPath) {
  Get-Content -LiteralPath $LogPath | Select-Object -Last ([int]$Lines) | ForEach-Object { Write-Output ('log:' + $_) }
} else {
  Write-Output ('error=no install log at ' + $LogPath)
}
${success}`,
  },
};

export const scriptHeaderPrefix = "# mps-hotfix script=";
export const relayHeader = "# mps-hotfix relay";
export const endOfParameters = "# end of parameters";
/** The exit code a relay script uses when it could not run the step on the engine behind it. */
export const relayUnreachableExitCode = 20;

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

/** The text of one script as the engine runs it. */
export function renderScript(script: HostScript, payloadSource: PayloadSource): string {
  const definition = definitions[script.name];
  checkParams(script.name, script.params);
  const lines = [`${scriptHeaderPrefix}${script.name}`];
  if (definition.payload && payloadSource === "argument") lines.push("param($Payload)");
  for (const param of definition.params) lines.push(renderParam(param, script.params[param]!));
  lines.push(endOfParameters, errorTrap);
  if (definition.payload && payloadSource === "stdin") lines.push("$Payload = [Console]::In.ReadToEnd()");
  lines.push(definition.body);
  return lines.join("\n") + "\n";
}

/**
 * A relay script: runs an engine's script through Invoke-Command (WinRM) from a management host.
 * The engine's script travels as base64 of its UTF-8 text, so it needs no quoting at all.
 */
export function renderRelayScript(engineHost: string, innerScript: string, forwardInput: boolean): string {
  return `${relayHeader}
${renderParam("Engine", engineHost)}
${renderParam("ForwardInput", forwardInput ? "yes" : "no")}
${renderParam("InnerScript", Buffer.from(innerScript, "utf8").toString("base64"))}
${endOfParameters}
$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('relay.error=' + ($_.Exception.Message -replace '[\\r\\n]+', ' '))
  Write-Output 'exit=${relayUnreachableExitCode}'
  exit ${relayUnreachableExitCode}
}
$payload = $null
if ($ForwardInput -eq 'yes') { $payload = [Console]::In.ReadToEnd() }
$inner = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($InnerScript))
$lines = Invoke-Command -ComputerName $Engine -ScriptBlock ([ScriptBlock]::Create($inner)) -ArgumentList $payload
$code = 1
foreach ($line in $lines) {
  Write-Output $line
  if ("$line" -match '^exit=(-?[0-9]+)$') { $code = [int]$Matches[1] }
}
exit $code
`;
}

/** How a step reaches its engine: straight over SSH, or over SSH to a relay that uses WinRM. */
export type Route = { readonly kind: "direct" } | { readonly kind: "relay"; readonly engineHost: string };

/** The exact command line sent over SSH for a script on a route. */
export function commandLineFor(script: HostScript, route: Route): string {
  if (route.kind === "direct") return powershellCommandLine(renderScript(script, "stdin"));
  const inner = renderScript(script, "argument");
  return powershellCommandLine(renderRelayScript(route.engineHost, inner, script.stdin !== undefined));
}
