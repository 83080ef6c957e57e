# Puts the engine back in rotation. Only once IsActive says it is back is this run's lease removed.
param([string]$EngineName, [string]$EngineControlProgId, [string]$LeaseRun, [string]$LeaseTakeover, [string[]]$Lease)
. .\lease.ps1
[void](Enter-MaintenanceLease $LeaseRun $LeaseTakeover $Lease)
$engine = New-Object -ComObject $EngineControlProgId
[void]$engine.Activate($EngineName)
if (-not $engine.IsActive($EngineName)) { throw ('engine ' + $EngineName + ' is not active after Activate') }
Write-Output 'engine=active'
[void](Remove-MaintenanceLease $LeaseRun)
Write-Output 'exit=0'
exit 0
