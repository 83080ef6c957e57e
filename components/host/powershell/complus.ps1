# The COM+ catalog: how many instances an application runs, and whether its component answers.

# The key of a COM+ application, looked up by name in the catalog's Applications collection.
function Find-ComPlusApplicationKey($applications, [string]$application) {
  $key = $null
  foreach ($candidate in $applications) { if ($candidate.Name -eq $application) { $key = $candidate.Key } }
  if ($key -eq $null) { throw ('COM+ application not found: ' + $application) }
  return $key
}

function Get-ComPlusInstanceCount($catalog, [string]$application) {
  $applications = $catalog.GetCollection('Applications')
  [void]$applications.Populate()
  $key = Find-ComPlusApplicationKey $applications $application
  $instances = $catalog.GetCollection('ApplicationInstances')
  [void]$instances.Populate()
  $count = 0
  foreach ($instance in $instances) { if ($instance.Value('Application') -eq $key) { $count++ } }
  return $count
}

# KB952089's symptom: the application runs, but its component no longer answers. The application's
# first component is created in a background job, which runs in a PowerShell process of its own,
# and waited for at most $timeoutSeconds: a creation that does not finish by then is a component
# that does not respond. The job is removed either way (-Force stops it when it is still running).
function Test-ComPlusResponse($catalog, [string]$application, [int]$timeoutSeconds) {
  $applications = $catalog.GetCollection('Applications')
  [void]$applications.Populate()
  $key = Find-ComPlusApplicationKey $applications $application
  $components = $applications.GetCollection('Components', $key)
  [void]$components.Populate()
  $progId = $null
  foreach ($component in $components) { if ($progId -eq $null) { $progId = $component.Name } }
  if ($progId -eq $null) { throw ('COM+ application has no component: ' + $application) }
  $job = Start-Job -ScriptBlock { param($componentProgId) $object = New-Object -ComObject $componentProgId } -ArgumentList $progId
  $finished = Wait-Job -Job $job -Timeout $timeoutSeconds
  $responded = $false
  if ($finished -ne $null) { $responded = $job.JobStateInfo.State -eq 'Completed' }
  [void](Remove-Job -Job $job -Force)
  return $responded
}
