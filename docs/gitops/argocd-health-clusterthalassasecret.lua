-- Argo CD health check for ClusterThalassaSecret (secrets.thalassa.cloud/v1alpha1).
-- Source: docs/gitops/argocd-health-clusterthalassasecret.lua of thalassa-secrets-operator.
-- Plain Lua 5.1 with the base and table libraries only: Argo CD runs custom health
-- checks without the string library unless useOpenLibs is set for the kind.
hs = {}
local generation = obj.metadata.generation
local status = obj.status
if status == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to fan this resource out"
  return hs
end
if generation ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to fan out generation " .. tostring(generation) ..
    " (status is for generation " .. tostring(status.observedGeneration) .. ")"
  return hs
end
local ready = nil
if status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    end
  end
end
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
local reason = tostring(ready.reason or "")
local message = tostring(ready.message or "")
local counts = tostring(status.provisionedNamespaces or 0) .. " provisioned, " ..
  tostring(status.failedNamespaces or 0) .. " failed"
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message
elseif ready.status == "False" then
  hs.status = "Degraded"
  hs.message = reason .. ": " .. message
else
  -- Unknown: some namespaces are still syncing, none failed.
  hs.status = "Progressing"
  hs.message = reason .. " (" .. counts .. "): " .. message
end
return hs
