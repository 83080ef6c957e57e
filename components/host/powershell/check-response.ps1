# After the engine is back: whether its COM+ application runs and its component answers.
param([string]$ComPlusApplication, [int]$ResponseTimeoutSeconds)
. .\complus.ps1
$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog
$count = Get-ComPlusInstanceCount $catalog $ComPlusApplication
Write-Output ('complus.instances=' + $count)
if ($count -eq 0) { throw ($ComPlusApplication + ' has no running instance') }
if (Test-ComPlusResponse $catalog $ComPlusApplication $ResponseTimeoutSeconds) {
  Write-Output 'complus.responding=yes'
} else {
  Write-Output 'complus.responding=no'
}
Write-Output 'exit=0'
exit 0
