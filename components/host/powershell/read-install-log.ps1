# The last $Lines lines of an install's verbose log, each as a log: line.
param([string]$LogPath, [int]$Lines)
if (Test-Path -LiteralPath $LogPath) {
  $all = [IO.File]::ReadAllLines($LogPath)
  $from = $all.Length - $Lines
  $index = 0
  foreach ($line in $all) {
    if ($index -ge $from) { Write-Output ('log:' + $line) }
    $index++
  }
} else {
  Write-Output ('error=no install log at ' + $LogPath)
}
Write-Output 'exit=0'
exit 0
