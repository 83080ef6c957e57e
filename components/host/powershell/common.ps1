# What every step script starts with: the product sends it right after each step's param() line.
# A step includes the other shared files it uses with a line ". .\<file>.ps1", which the product
# replaces with that file. `mps-hotfix script <step>` prints a step's script as the product sends it.
# PowerShell 2.0 and .NET Framework 2.0 only (Windows Server 2003).

# Any error ends the script with one error= line and exit 1: the product reads nothing else from a failure.
$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('error=' + ($_.Exception.Message -replace '[\r\n]+', ' '))
  Write-Output 'exit=1'
  exit 1
}
