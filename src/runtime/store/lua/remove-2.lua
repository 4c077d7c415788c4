--[[
  Removal by timer: takes out of the store the actors whose removal timer (a retention expiry)
  fired, without the caller loading them. Past its retention, a server has one of these due for
  every job it finished a retention ago.

  An actor is removed only if its timer is still filed at the firing's deadline (otherwise the
  firing is stale: the timer was cancelled or moved, and the actor lives on) and its record's head
  (stored-record.ts) shows no other timer and no undelivered message. The head is the first of
  the two msgpack values a snapshot holds, and `cmsgpack.unpack_one` reads it alone: the record
  after it may hold msgpack bin, which Redis 7's cmsgpack rejects. A record without a head
  (written before it) is left to its actor, like one with more pending.

  The key formats must match keys.ts (createKeys), like commit-4.lua's.

  KEYS[1]   the removal timer set (score = deadline, member = kind NUL id NUL name)
  KEYS[2]   the durable timer set, where a removal timer filed before they had a set of their own
            still is
  ARGV[1]   key prefix
  ARGV[2..] per firing: kind, id, timer name, deadline (as Node writes numbers: it round-trips)
  Returns one outcome per firing: 1 removed, 0 stale, 2 held (the caller delivers the firing).
]]
local removalTimers = KEYS[1]
local timers = KEYS[2]
local prefix = ARGV[1]
local REMOVED, STALE, HELD = 1, 0, 2

local outcomes = {}
local dels, timerRems = {}, {}
local zrems, zremKeys = {}, {}

local function readHead(bytes)
  local ok, offset, head = pcall(cmsgpack.unpack_one, bytes)
  -- A head is [tags, timer count, outbox length], and a body follows it (offset -1: nothing does).
  if not ok or offset == -1 or type(head) ~= 'table' or type(head[1]) ~= 'table' then return nil end
  return head
end

for f = 2, #ARGV, 4 do
  local kind, id, name, at = ARGV[f], ARGV[f + 1], ARGV[f + 2], ARGV[f + 3]
  local member = kind .. '\0' .. id .. '\0' .. name
  local score = redis.call('ZSCORE', removalTimers, member) or redis.call('ZSCORE', timers, member)
  local outcome = STALE
  if score and tonumber(score) == tonumber(at) then
    outcome = HELD
    local snapshot = prefix .. 'snap:{' .. kind .. ':' .. id .. '}'
    local bytes = redis.call('GET', snapshot)
    local head = bytes and readHead(bytes)
    if head and head[2] == 1 and head[3] == 0 then
      outcome = REMOVED
      dels[#dels + 1] = snapshot
      timerRems[#timerRems + 1] = member
      local tagPrefix = prefix .. 'idx:' .. kind .. ':'
      for _, tag in ipairs(head[1]) do
        local key = tagPrefix .. tag
        local list = zrems[key]
        if not list then
          list = {}
          zrems[key] = list
          zremKeys[#zremKeys + 1] = key
        end
        list[#list + 1] = id
      end
    end
  end
  outcomes[#outcomes + 1] = outcome
end

-- Gathered per key and issued once, as in commit-4.lua; the caller sends a few hundred firings
-- per call, well inside Lua's argument stack.
if #dels > 0 then redis.call('DEL', unpack(dels)) end
for _, key in ipairs(zremKeys) do redis.call('ZREM', key, unpack(zrems[key])) end
if #timerRems > 0 then
  redis.call('ZREM', removalTimers, unpack(timerRems))
  redis.call('ZREM', timers, unpack(timerRems))
end
return outcomes
