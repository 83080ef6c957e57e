# Runs an engine's script from a management host through Invoke-Command (WinRM), passing its payload
# on. The engine's script travels as base64 of its UTF-8 text, so it needs no quoting at all. A WinRM
# failure (no connection, a lost one, access denied) is told apart from an error raised by the
# engine's script: relay.winrm= and $UnreachableExitCode, or relay.error= and $FailedExitCode.
param([string]$Engine, [string]$InnerScript, [int]$UnreachableExitCode, [int]$FailedExitCode, [string]$Payload)
$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('relay.error=' + ($_.Exception.Message -replace '[\r\n]+', ' '))
  Write-Output ('exit=' + $FailedExitCode)
  exit $FailedExitCode
}
$inner = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($InnerScript))
$remoteErrors = $null
$lines = Invoke-Command -ComputerName $Engine -ScriptBlock ([ScriptBlock]::Create($inner)) -ArgumentList $Payload -ErrorAction SilentlyContinue -ErrorVariable remoteErrors
foreach ($failure in $remoteErrors) {
  if ($failure.Exception -is [Management.Automation.Remoting.PSRemotingTransportException]) {
    Write-Output ('relay.winrm=' + ($failure.Exception.Message -replace '[\r\n]+', ' '))
    Write-Output ('exit=' + $UnreachableExitCode)
    exit $UnreachableExitCode
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
