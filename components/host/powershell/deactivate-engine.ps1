# Takes the engine out of rotation (the runbook's first step), under the maintenance lease.
param([string]$EngineName, [string]$EngineControlProgId, [string]$LeaseRun, [string]$LeaseTakeover, [string[]]$Lease)
. .\lease.ps1
[void](Enter-MaintenanceLease $LeaseRun $LeaseTakeover $Lease)
$engine = New-Object -ComObject $EngineControlProgId
[void]$engine.Deactivate($EngineName)
if ($engine.IsActive($EngineName)) { throw ('engine ' + $EngineName + ' is still active after Deactivate') }
Write-Output 'engine=deactivated'
Write-Output 'exit=0'
exit 0
