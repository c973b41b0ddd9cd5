-- Argo CD health check for apps.nodeagentset.io/NodeAgentSet.
--
-- Argo CD runs a check from argocd-cm with only the base, table and package libraries and a safe subset of os: there
-- is no string, math or os global. Messages are therefore built with .. and tostring only.
--
-- The judgement comes from what the controller publishes: status.observedGeneration and the kstatus conditions
-- Ready, Progressing and Stalled. The order of the checks matters:
--   1. no status yet                                       -> Progressing
--   2. the spec's generation is not observed yet           -> Progressing (older conditions describe an older spec)
--   3. Stalled is True (pods fail, creates are refused,    -> Degraded
--      canary failed, progress deadline exceeded)
--   4. Progressing False, ProgressDeadlineExceeded         -> Degraded
--   5. Progressing False, CanaryWaitingForPromotion        -> Suspended (kubectl nas rollout promote)
--   6. Ready is True, and not held by a pause              -> Healthy
--   7. the rollout is paused                               -> Suspended
--   8. anything else                                       -> Progressing
-- A status with counters but none of these conditions (an older controller, a restored backup, a tool that copies
-- status) is judged from the counters the way Argo CD judges an apps/v1 DaemonSet: every desired node updated and
-- available -> Healthy (OnDelete: Healthy), paused -> Suspended, otherwise Progressing.
local hs = {}

local function condition(conditions, condType)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == condType then
      return c
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local function isFalseWithReason(c, reason)
  return c ~= nil and c.status == "False" and c.reason == reason
end

local function messageOf(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local function count(n)
  return tostring(n or 0)
end

local function isPaused(spec)
  return spec ~= nil and spec.updateStrategy ~= nil and spec.updateStrategy.rollingUpdate ~= nil
    and spec.updateStrategy.rollingUpdate.paused == true
end

local function isOnDelete(spec)
  return spec ~= nil and spec.updateStrategy ~= nil and spec.updateStrategy.type == "OnDelete"
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for status"
  return hs
end

local status = obj.status
local generation = obj.metadata.generation or 0
local observed = status.observedGeneration or 0
if observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. count(generation) .. " (observed " ..
    count(observed) .. ")"
  return hs
end

local paused = isPaused(obj.spec)
local ready = condition(status.conditions, "Ready")
local progressing = condition(status.conditions, "Progressing")
local stalled = condition(status.conditions, "Stalled")

if ready == nil and progressing == nil and stalled == nil then
  local desired = status.desiredNumberScheduled or 0
  local updated = status.updatedNumberScheduled or 0
  local available = status.numberAvailable or 0
  if isOnDelete(obj.spec) then
    hs.status = "Healthy"
    hs.message = count(updated) .. " of " .. count(desired) .. " pods updated (OnDelete)"
    return hs
  end
  if updated >= desired and available >= desired then
    hs.status = "Healthy"
    hs.message = count(updated) .. " of " .. count(desired) .. " pods updated and available"
    return hs
  end
  if paused then
    hs.status = "Suspended"
    hs.message = "Rollout paused: " .. count(updated) .. " of " .. count(desired) .. " pods updated"
    return hs
  end
  hs.status = "Progressing"
  if updated < desired then
    hs.message = "Waiting for rollout to finish: " .. count(updated) .. " of " .. count(desired) ..
      " pods updated"
  else
    hs.message = "Waiting for rollout to finish: " .. count(available) .. " of " .. count(desired) ..
      " updated pods available"
  end
  return hs
end

if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = messageOf(stalled, "Rollout stalled")
  return hs
end

if isFalseWithReason(progressing, "ProgressDeadlineExceeded") then
  hs.status = "Degraded"
  hs.message = messageOf(progressing, "Progress deadline exceeded")
  return hs
end

if isFalseWithReason(progressing, "CanaryWaitingForPromotion") then
  hs.status = "Suspended"
  hs.message = messageOf(progressing, "Canary waits for promotion")
  return hs
end

local heldByPause = paused and isFalseWithReason(progressing, "RolloutPaused")

if isTrue(ready) and not heldByPause then
  hs.status = "Healthy"
  hs.message = messageOf(ready, "Rollout complete")
  return hs
end

if paused then
  hs.status = "Suspended"
  hs.message = messageOf(progressing, "Rollout paused")
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready, messageOf(progressing, "Waiting for rollout"))
return hs
