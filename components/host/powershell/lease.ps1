# Taking and removing the maintenance lease. .NET 2.0's DeleteSubKeyTree refuses a key that is not
# there, so the lease is removed only after it was opened.
. .\lease-key.ps1

# Reading who holds the lease and writing it must be one step, or two runs that reach the engine at
# the same moment could both take it: a named mutex in the Global namespace makes it one across every
# session on the host. A mutex whose owner died (a killed PowerShell) is still acquired, with
# AbandonedMutexException.
function Enter-LeaseLock {
  $lock = New-Object -TypeName Threading.Mutex -ArgumentList $false, 'Global\mps-hotfix-maintenance'
  try { [void]$lock.WaitOne() } catch [Threading.AbandonedMutexException] { $abandoned = $true }
  return $lock
}

# Takes the lease for $run, writing each Name=value of $fields, and returns $null; or returns the run
# that holds it, when that is another run and not the one $takeover names (the product saw that run
# end). Given no $run, a script neither writes nor removes a lease.
function Set-MaintenanceLease([string]$run, [string]$takeover, [string[]]$fields) {
  if ($run -eq '') { return $null }
  $lock = Enter-LeaseLock
  try {
    $leaseKey = Open-MaintenanceLeaseKey $true
    try {
      $holder = $leaseKey.GetValue('Run')
      if ($holder -ne $null -and $holder -ne $run -and $holder -ne $takeover) { return $holder }
      foreach ($field in $fields) {
        if ($field -match '^([A-Za-z]+)=(.*)$') { [void]$leaseKey.SetValue($Matches[1], $Matches[2]) }
      }
    } finally { [void]$leaseKey.Close() }
  } finally { [void]$lock.ReleaseMutex() }
  return $null
}

# Takes the lease before a step's work, or refuses the work with an error naming the run that holds
# the engine (the product reads that run from the error line).
function Enter-MaintenanceLease([string]$run, [string]$takeover, [string[]]$fields) {
  $holder = Set-MaintenanceLease $run $takeover $fields
  if ($holder -ne $null) { throw ('the engine is in maintenance by run ' + $holder) }
}

# Removes the lease when it is $run's: activate-engine calls it once the engine is back in rotation.
function Remove-MaintenanceLease([string]$run) {
  if ($run -eq '') { return }
  $lock = Enter-LeaseLock
  try {
    $leaseKey = Open-MaintenanceLeaseKey $false
    if ($leaseKey -ne $null) {
      $holder = $leaseKey.GetValue('Run')
      [void]$leaseKey.Close()
      if ($holder -eq $run) { [void][Microsoft.Win32.Registry]::LocalMachine.DeleteSubKeyTree((Get-MaintenanceLeasePath)) }
    }
  } finally { [void]$lock.ReleaseMutex() }
}
