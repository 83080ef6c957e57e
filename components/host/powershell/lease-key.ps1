# Where the maintenance lease is kept (docs/operator-guide.md: "The maintenance lease"): a key under
# HKEY_LOCAL_MACHINE, each field a REG_SZ value. CreateSubKey creates the key or opens it for writing.
# The probe reads the lease; lease.ps1, which includes this file, takes and removes it.
function Get-MaintenanceLeasePath { return 'SOFTWARE\mps-hotfix\Maintenance' }

# The lease key open for reading ($null when there is no lease), or created or opened for writing.
function Open-MaintenanceLeaseKey([bool]$forWriting) {
  if ($forWriting) { return [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey((Get-MaintenanceLeasePath)) }
  return [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey((Get-MaintenanceLeasePath))
}
