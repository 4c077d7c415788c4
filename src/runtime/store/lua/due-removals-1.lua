--[[
  A page of the removal timers due by a deadline, earliest first, after a cursor: the (deadline,
  member) of the last timer the caller read. Members of one deadline are kept in member order,
  so the ones at the cursor's deadline up to its member were read before. Counting them here,
  rather than remembering how many were read, stays right when some of them were removed since.

  KEYS[1]   the removal timer set (score = deadline, member = kind NUL id NUL name)
  ARGV[1]   the cursor's deadline, or '-inf' to start from the earliest
  ARGV[2]   the cursor's member ('' with '-inf')
  ARGV[3]   the latest deadline to read
  ARGV[4]   at most this many timers
  Returns member, deadline, member, deadline, ...
]]
local key = KEYS[1]
local after, afterMember, untilAt, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])

-- Byte order, as Redis orders members of one score; Lua's own `<=` collates by the locale.
local function notAfter(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a <= #b
end

local skip = 0
if after ~= '-inf' then
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', key, after, after)) do
    if not notAfter(member, afterMember) then break end
    skip = skip + 1
  end
end
return redis.call('ZRANGEBYSCORE', key, after, untilAt, 'WITHSCORES', 'LIMIT', skip, limit)
