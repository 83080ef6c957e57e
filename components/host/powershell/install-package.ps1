# Installs the staged package quietly, without a restart, with a verbose log; exits with msiexec's code.
param([string]$PackagePath, [string]$LogPath, [string]$LeaseRun, [string]$LeaseTakeover, [string[]]$Lease)
. .\lease.ps1
[void](Enter-MaintenanceLease $LeaseRun $LeaseTakeover $Lease)
$arguments = '/i "' + $PackagePath + '" /qn /norestart /L*v "' + $LogPath + '"'
$process = [Diagnostics.Process]::Start('msiexec.exe', $arguments)
[void]$process.WaitForExit()
$code = $process.ExitCode
Write-Output ('msiexec.exit=' + $code)
Write-Output ('log=' + $LogPath)
Write-Output ('exit=' + $code)
exit $code
