# Starts the COM+ application again and checks that it runs.
param([string]$ComPlusApplication, [string]$LeaseRun, [string]$LeaseTakeover, [string[]]$Lease)
. .\complus.ps1
. .\lease.ps1
[void](Enter-MaintenanceLease $LeaseRun $LeaseTakeover $Lease)
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
[void]$catalog.StartApplication($ComPlusApplication)
$count = Get-ComPlusInstanceCount $catalog $ComPlusApplication
Write-Output ('complus.instances=' + $count)
if ($count -eq 0) { throw ($ComPlusApplication + ' has no running instance after StartApplication') }
Write-Output 'complus=running'
Write-Output 'exit=0'
exit 0
