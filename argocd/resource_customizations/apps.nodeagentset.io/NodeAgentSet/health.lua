-- Argo CD health check for apps.nodeagentset.io/NodeAgentSet.
--
-- It reads only what the controller publishes: status.observedGeneration and the kstatus-style conditions Ready,
-- Progressing and Stalled. The order of the checks matters:
--   1. no status yet                                  -> Progressing
--   2. the spec's generation is not observed yet      -> Progressing (older conditions describe an older spec)
--   3. Stalled is True                                -> Degraded    (pods keep failing, creates are refused)
--   4. Ready is True, and not held by a pause         -> Healthy
--   5. the rollout is paused                          -> Suspended
--   6. anything else                                  -> Progressing
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

local function messageOf(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local function counts(status)
  return string.format("%d of %d nodes updated, %d available",
    status.updatedNumberScheduled or 0, status.desiredNumberScheduled or 0, status.numberAvailable or 0)
end

local function isPaused(spec)
  return spec ~= nil and spec.updateStrategy ~= nil and spec.updateStrategy.rollingUpdate ~= nil
    and spec.updateStrategy.rollingUpdate.paused == true
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for status"
  return hs
end

local generation = obj.metadata.generation or 0
local observed = obj.status.observedGeneration or 0
if observed < generation then
  hs.status = "Progressing"
  hs.message = string.format("Waiting for the controller to observe generation %d (observed %d)", generation, observed)
  return hs
end

local conditions = obj.status.conditions
local ready = condition(conditions, "Ready")
local progressing = condition(conditions, "Progressing")
local stalled = condition(conditions, "Stalled")
local paused = isPaused(obj.spec)
local heldByPause = paused and progressing ~= nil and progressing.reason == "RolloutPaused"

if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = messageOf(stalled, "Rollout stalled")
  return hs
end

if isTrue(ready) and not heldByPause then
  hs.status = "Healthy"
  hs.message = messageOf(ready, counts(obj.status))
  return hs
end

if paused then
  hs.status = "Suspended"
  hs.message = messageOf(progressing, "Rollout paused: " .. counts(obj.status))
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready, messageOf(progressing, "Waiting for rollout: " .. counts(obj.status)))
return hs
