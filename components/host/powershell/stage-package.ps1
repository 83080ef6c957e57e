# Writes the package (its bytes, base64, follow the script on standard input) to the staging folder
# and answers with the SHA-256 of what was written, for the product to compare with the stack's.
param([string]$StagingDir, [string]$PackageFile, [string]$Payload)
[void][IO.Directory]::CreateDirectory($StagingDir)
$target = [IO.Path]::Combine($StagingDir, $PackageFile)
$bytes = [Convert]::FromBase64String($Payload)
[void][IO.File]::WriteAllBytes($target, $bytes)
$sha = [Security.Cryptography.SHA256]::Create()
$stream = [IO.File]::OpenRead($target)
try { $hash = $sha.ComputeHash($stream) } finally { [void]$stream.Close() }
$hex = ''
foreach ($byte in $hash) { $hex += $byte.ToString('x2') }
Write-Output ('sha256=' + $hex)
Write-Output ('bytes=' + $bytes.Length)
Write-Output ('path=' + $target)
Write-Output 'exit=0'
exit 0
