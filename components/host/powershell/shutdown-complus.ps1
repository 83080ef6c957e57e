# Shuts the COM+ application down and waits, at most $TimeoutSeconds, for its last instance to end.
param([string]$ComPlusApplication, [int]$TimeoutSeconds, [string]$LeaseRun, [string]$LeaseTakeover, [string[]]$Lease)
. .\complus.ps1
. .\lease.ps1
[void](Enter-MaintenanceLease $LeaseRun $LeaseTakeover $Lease)
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
[void]$catalog.ShutdownApplication($ComPlusApplication)
$deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
do {
  $count = Get-ComPlusInstanceCount $catalog $ComPlusApplication
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
Write-Output 'exit=0'
exit 0
