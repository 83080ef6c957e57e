# Reads what the product compares with the stack: each required file's version, whether the engine
# is in rotation, its COM+ application's instances and whether its component answers, the renames
# Windows will carry out at the next restart, and any maintenance lease. Changes nothing.
param([string[]]$FilePaths, [string]$EngineName, [string]$EngineControlProgId, [string]$ComPlusApplication, [int]$ResponseTimeoutSeconds)
. .\complus.ps1
. .\lease-key.ps1
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
$count = Get-ComPlusInstanceCount $catalog $ComPlusApplication
Write-Output ('complus.instances=' + $count)
if ($count -gt 0) {
  Write-Output 'complus=running'
  if (Test-ComPlusResponse $catalog $ComPlusApplication $ResponseTimeoutSeconds) {
    Write-Output 'complus.responding=yes'
  } else {
    Write-Output 'complus.responding=no'
  }
} else {
  Write-Output 'complus=stopped'
}
$sessionManager = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SYSTEM\CurrentControlSet\Control\Session Manager')
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
$leaseKey = Open-MaintenanceLeaseKey $false
if ($leaseKey -ne $null) {
  foreach ($field in $leaseKey.GetValueNames()) { Write-Output ('lease.' + $field + '=' + $leaseKey.GetValue($field)) }
  [void]$leaseKey.Close()
}
Write-Output 'exit=0'
exit 0
