# Puts the engine back in rotation. Only once IsActive says it is back is this run's lease removed.
param(
  [string]$EngineName,
  [string]$EngineControlProgId,
  [string]$LeaseRun,
  [string]$LeaseTakeover,
  [string[]]$Lease
)
. .\common.ps1
. .\lease-key.ps1
. .\lease.ps1
$holder = Set-MaintenanceLease $LeaseRun $LeaseTakeover $Lease
if ($holder -ne $null) {
  Write-Output ('lease.held=' + $holder)
  throw ('the engine is in maintenance by run ' + $holder)
}
$engine = New-Object -ComObject $EngineControlProgId
[void]$engine.Activate($EngineName)
if (-not $engine.IsActive($EngineName)) { throw ('engine ' + $EngineName + ' is not active after Activate') }
Write-Output 'engine=active'
[void](Remove-MaintenanceLease $LeaseRun)
Write-Output 'exit=0'
exit 0
