--[[
  Group commit: writes many actors' snapshots together with their index entries and the events
  they emitted, atomically.

  The whole batch travels in two arguments (a msgpack list of fields and one blob of bytes)
  because Node spends more time turning each RESP argument into bytes than Redis spends running
  this script. For the same reason the per-actor keys are derived here from the prefix instead of
  being declared in KEYS: the group commit already spans slots, so Redis Cluster is not supported
  either way. The formats must match keys.ts (createKeys), which points back here. Snapshot and
  event bytes travel in a blob of their own because cmsgpack (Redis 7.0) rejects msgpack bin.

  KEYS[1]   the durable timer set (score = deadline, member = kind NUL id NUL name)
  KEYS[2]   the event log stream: one entry per call, its id "<seq of its first event>-0", field
            "e" = the call's events, msgpack values one after another (an older log holds one
            event per entry, which reads the same way)
  KEYS[3]   the event log's seq counter
  KEYS[4]   the removal timer set, the same way: timers that end their actor's life, filed apart
            so that loads of the others never read them (SnapshotStore.useRemovalTimers)

  ARGV[1]   key prefix
  ARGV[2]   approximate maximum length of the event log, in events (entries that start more
            than this many seqs before the newest event are trimmed)
  ARGV[3]   msgpack array, flat (nested tables cost Redis more to decode), per entry in order:
              snapshot length in the blob (0 = delete the snapshot), kind, id, changed
            and when changed is 1:
              score for the tag sets
              number of removed tags, then each tag
              number of added tags, then each tag
              number of removed timers, then each timer name
              number of set timers, then (name, deadline) pairs
              number of removed removal timers, then each timer name (taken out of both sets:
                one filed before removal timers had a set of their own is in the first)
              number of set removal timers, then (name, deadline) pairs
  ARGV[4]   the blob: every snapshot (msgpack, in entry order), then every event (msgpack, in
            entry order), which becomes the stream entry as it is
  ARGV[5]   number of events in the whole batch (their seqs are reserved with one INCRBY)
  Returns { entries written, seq of the first event appended (0 when none) }.

  One stream entry per call instead of one per event: with an XADD per event, the three of an
  echo job took about a quarter of the script's time for that job.

  Writes are gathered per key and issued once per batch (one MSET, one DEL, one ZADD or ZREM per
  index set, one of each for the timer set): each redis.call costs Redis about as much again as
  the command's own work, and a batch of a hundred jobs touches the same few index sets a hundred
  times. An actor that appears twice in one call (the store's callers never do this, but its
  contract allows it) first has the writes gathered so far issued, so its entries apply in order.
]]
local timers = KEYS[1]
local stream = KEYS[2]
local seqKey = KEYS[3]
local removalTimers = KEYS[4]
local prefix = ARGV[1]
local maxLen = ARGV[2]
local fields = cmsgpack.unpack(ARGV[3])
local blob = ARGV[4]

-- cmsgpack yields doubles; %.17g writes integers (ms timestamps past 2^31 too) exactly, where
-- Lua's tostring would round to 14 digits.
local function number(x)
  return string.format('%.17g', x)
end

-- Lua's unpack has a bounded stack: long argument lists go out in slices.
local SLICE = 4000
local function callSliced(command, key, args)
  local count = #args
  for i = 1, count, SLICE do
    local last = math.min(i + SLICE - 1, count)
    if key then
      redis.call(command, key, unpack(args, i, last))
    else
      redis.call(command, unpack(args, i, last))
    end
  end
end

local sets, dels, timerRems, timerAdds, removalRems, removalAdds
local zrems, zremKeys, zadds, zaddKeys
local seen
local function reset()
  sets, dels, timerRems, timerAdds, removalRems, removalAdds = {}, {}, {}, {}, {}, {}
  zrems, zremKeys, zadds, zaddKeys = {}, {}, {}, {}
  seen = {}
end

local function issue()
  if #sets > 0 then callSliced('MSET', nil, sets) end
  if #dels > 0 then callSliced('DEL', nil, dels) end
  for _, key in ipairs(zremKeys) do callSliced('ZREM', key, zrems[key]) end
  for _, key in ipairs(zaddKeys) do callSliced('ZADD', key, zadds[key]) end
  if #timerRems > 0 then callSliced('ZREM', timers, timerRems) end
  if #timerAdds > 0 then callSliced('ZADD', timers, timerAdds) end
  if #removalRems > 0 then
    callSliced('ZREM', removalTimers, removalRems)
    callSliced('ZREM', timers, removalRems)
  end
  if #removalAdds > 0 then callSliced('ZADD', removalTimers, removalAdds) end
  reset()
end

local function listOf(lists, order, key)
  local list = lists[key]
  if not list then
    list = {}
    lists[key] = list
    order[#order + 1] = key
  end
  return list
end

reset()
local f = 1

-- One set's timer changes for the actor whose members start with `member`: the removed names,
-- then the set (name, deadline) pairs, each list after its count.
local function readTimers(member, rems, adds)
  local n = fields[f]
  f = f + 1
  for i = f, f + n - 1 do
    rems[#rems + 1] = member .. fields[i]
  end
  f = f + n
  n = fields[f]
  f = f + 1
  for i = f, f + 2 * n - 1, 2 do
    adds[#adds + 1] = number(fields[i + 1])
    adds[#adds + 1] = member .. fields[i]
  end
  f = f + 2 * n
end
local pos = 1
local entries = 0
local firstSeq = 0
local total = tonumber(ARGV[5])
if total > 0 then
  firstSeq = redis.call('INCRBY', seqKey, total) - total + 1
end
local count = #fields
while f <= count do
  local length, kind, id, changed = fields[f], fields[f + 1], fields[f + 2], fields[f + 3]
  f = f + 4
  entries = entries + 1
  local snapshot = prefix .. 'snap:{' .. kind .. ':' .. id .. '}'
  if seen[snapshot] then issue() end
  seen[snapshot] = true
  if length == 0 then
    dels[#dels + 1] = snapshot
  else
    sets[#sets + 1] = snapshot
    sets[#sets + 1] = string.sub(blob, pos, pos + length - 1)
    pos = pos + length
  end
  if changed == 1 then
    local score = number(fields[f])
    local n = fields[f + 1]
    f = f + 2
    local tagPrefix = prefix .. 'idx:' .. kind .. ':'
    for i = f, f + n - 1 do
      local list = listOf(zrems, zremKeys, tagPrefix .. fields[i])
      list[#list + 1] = id
    end
    f = f + n
    n = fields[f]
    f = f + 1
    for i = f, f + n - 1 do
      local list = listOf(zadds, zaddKeys, tagPrefix .. fields[i])
      list[#list + 1] = score
      list[#list + 1] = id
    end
    f = f + n
    local member = kind .. '\0' .. id .. '\0'
    readTimers(member, timerRems, timerAdds)
    readTimers(member, removalRems, removalAdds)
  end
end
issue()
if total > 0 then
  local lastSeq = firstSeq + total - 1
  local oldest = math.max(0, lastSeq - tonumber(maxLen) + 1)
  redis.call('XADD', stream, 'MINID', '~', number(oldest), number(firstSeq) .. '-0', 'e',
    string.sub(blob, pos))
end
return { entries, firstSeq }
