# After a session was lost during an install: whether Windows Installer is still installing (it holds
# Global\_MSIExecute until it is done), and once it is not, the result its verbose log records.
param([string]$LogPath)
$running = $true
try {
  $mutex = [Threading.Mutex]::OpenExisting('Global\_MSIExecute')
  [void]$mutex.Close()
} catch [Threading.WaitHandleCannotBeOpenedException] {
  $running = $false
}
if ($running) {
  Write-Output 'installer=running'
} else {
  Write-Output 'installer=idle'
  $result = 'none'
  if (Test-Path -LiteralPath $LogPath) {
    foreach ($line in [IO.File]::ReadAllLines($LogPath)) {
      if ($line -match 'MainEngineThread is returning (-?[0-9]+)') { $result = $Matches[1] }
    }
    Write-Output 'log=present'
  } else {
    Write-Output 'log=absent'
  }
  Write-Output ('log.result=' + $result)
}
Write-Output 'exit=0'
exit 0
