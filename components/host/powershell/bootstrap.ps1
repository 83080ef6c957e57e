# mps-hotfix bootstrap: runs the script on the first line of standard input (base64 of UTF-8), the rest its payload.
$ErrorActionPreference = 'Stop'
trap {
  Write-Output ('error=' + ($_.Exception.Message -replace '[\r\n]+', ' '))
  Write-Output 'exit=1'
  exit 1
}
try { [Console]::OutputEncoding = New-Object -TypeName Text.UTF8Encoding -ArgumentList $false } catch { $encodingError = $_ }
Write-Output ('encoding=' + [Console]::OutputEncoding.CodePage)
$mpsInput = [Console]::In
$mpsScript = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($mpsInput.ReadLine()))
$mpsPayload = $mpsInput.ReadToEnd()
& ([ScriptBlock]::Create($mpsScript)) $mpsPayload
