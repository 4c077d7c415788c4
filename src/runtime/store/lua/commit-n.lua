--[[
  Group commit: writes many actors' snapshots together with their index entries and the events
  they emitted, atomically. The number of keys varies with the batch (hence "-n"); numkeys is
  passed by the caller.

  KEYS[1]       the durable timer set (score = deadline, member = kind NUL id NUL name)
  KEYS[2]       the event log stream (entry id = "<seq>-0", field "e" = msgpack event)
  KEYS[3]       the event log's seq counter
  KEYS[4..]     per entry, in order: its snapshot key, then one key per removed tag set,
                then one key per added tag set

  ARGV[1]       number of entries
  ARGV[2]       approximate maximum length of the event log
  ARGV[3..]     per entry, in order:
                  snapshot bytes (empty string = delete the snapshot)
                  score for the tag sets
                  actor id (the tag set member)
                  timer member prefix (kind NUL id NUL)
                  number of removed tag sets, number of added tag sets
                  number of removed timers, then each timer name
                  number of set timers, then (name, deadline) pairs
                  number of events, then each event's bytes
  Returns { entries written, seq of the first event appended (0 when none) }.
]]
local timers = KEYS[1]
local stream = KEYS[2]
local seqKey = KEYS[3]
local maxLen = ARGV[2]
local k = 4
local a = 3
local firstSeq = 0
local entries = tonumber(ARGV[1])
for _ = 1, entries do
  local snapshot = ARGV[a]
  local score = ARGV[a + 1]
  local id = ARGV[a + 2]
  local timerPrefix = ARGV[a + 3]
  local removeTags = tonumber(ARGV[a + 4])
  local addTags = tonumber(ARGV[a + 5])
  a = a + 6
  if snapshot == '' then
    redis.call('DEL', KEYS[k])
  else
    redis.call('SET', KEYS[k], snapshot)
  end
  k = k + 1
  for _ = 1, removeTags do
    redis.call('ZREM', KEYS[k], id)
    k = k + 1
  end
  for _ = 1, addTags do
    redis.call('ZADD', KEYS[k], score, id)
    k = k + 1
  end
  local removeTimers = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, removeTimers do
    redis.call('ZREM', timers, timerPrefix .. ARGV[a])
    a = a + 1
  end
  local setTimers = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, setTimers do
    redis.call('ZADD', timers, ARGV[a + 1], timerPrefix .. ARGV[a])
    a = a + 2
  end
  local events = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, events do
    local seq = redis.call('INCR', seqKey)
    if firstSeq == 0 then
      firstSeq = seq
    end
    redis.call('XADD', stream, 'MAXLEN', '~', maxLen, seq .. '-0', 'e', ARGV[a])
    a = a + 1
  end
end
return { entries, firstSeq }
