# What every step script starts with. Each step's file includes it, and the shared files it uses,
# with a line ". .\<file>.ps1" right after its param() block; the product sends each included file
# in place of that line. `mps-hotfix script <step>` prints a step's script as the product sends it.
# PowerShell 2.0 and .NET Framework 2.0 only (Windows Server 2003).

# Any error ends the script with one error= line and exit 1: the product reads nothing else from a failure.
$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('error=' + ($_.Exception.Message -replace '[\r\n]+', ' '))
  Write-Output 'exit=1'
  exit 1
}
