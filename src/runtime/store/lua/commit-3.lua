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
  KEYS[2]   the event log stream (entry id = "<seq>-0", field "e" = msgpack event)
  KEYS[3]   the event log's seq counter

  ARGV[1]   key prefix
  ARGV[2]   approximate maximum length of the event log
  ARGV[3]   msgpack array, flat (nested tables cost Redis more to decode), per entry in order:
              snapshot length in the blob (0 = delete the snapshot), kind, id, changed
            and when changed is 1:
              score for the tag sets
              number of removed tags, then each tag
              number of added tags, then each tag
              number of removed timers, then each timer name
              number of set timers, then (name, deadline) pairs
              number of events, then each event's length in the blob
  ARGV[4]   the blob: per entry, its snapshot bytes then its events' bytes (msgpack each)
  ARGV[5]   number of events in the whole batch (their seqs are reserved with one INCRBY)
  Returns { entries written, seq of the first event appended (0 when none) }.
]]
local timers = KEYS[1]
local stream = KEYS[2]
local seqKey = KEYS[3]
local prefix = ARGV[1]
local maxLen = ARGV[2]
local fields = cmsgpack.unpack(ARGV[3])
local blob = ARGV[4]

-- cmsgpack yields doubles; %.17g writes integers (ms timestamps past 2^31 too) exactly, where
-- Lua's tostring would round to 14 digits.
local function number(x)
  return string.format('%.17g', x)
end

local f = 1
local pos = 1
local entries = 0
local firstSeq = 0
local seq = 0
local total = tonumber(ARGV[5])
if total > 0 then
  seq = redis.call('INCRBY', seqKey, total) - total
  firstSeq = seq + 1
end
local count = #fields
while f <= count do
  local length, kind, id, changed = fields[f], fields[f + 1], fields[f + 2], fields[f + 3]
  f = f + 4
  entries = entries + 1
  local snapshot = prefix .. 'snap:{' .. kind .. ':' .. id .. '}'
  if length == 0 then
    redis.call('DEL', snapshot)
  else
    redis.call('SET', snapshot, string.sub(blob, pos, pos + length - 1))
    pos = pos + length
  end
  if changed == 1 then
    local score = fields[f]
    local n = fields[f + 1]
    f = f + 2
    for i = f, f + n - 1 do
      redis.call('ZREM', prefix .. 'idx:' .. kind .. ':' .. fields[i], id)
    end
    f = f + n
    n = fields[f]
    f = f + 1
    for i = f, f + n - 1 do
      redis.call('ZADD', prefix .. 'idx:' .. kind .. ':' .. fields[i], number(score), id)
    end
    f = f + n
    local member = kind .. '\0' .. id .. '\0'
    n = fields[f]
    f = f + 1
    for i = f, f + n - 1 do
      redis.call('ZREM', timers, member .. fields[i])
    end
    f = f + n
    n = fields[f]
    f = f + 1
    for i = f, f + 2 * n - 1, 2 do
      redis.call('ZADD', timers, number(fields[i + 1]), member .. fields[i])
    end
    f = f + 2 * n
    n = fields[f]
    f = f + 1
    for i = f, f + n - 1 do
      seq = seq + 1
      redis.call('XADD', stream, 'MAXLEN', '~', maxLen, number(seq) .. '-0', 'e',
        string.sub(blob, pos, pos + fields[i] - 1))
      pos = pos + fields[i]
    end
    f = f + n
  end
end
return { entries, firstSeq }
