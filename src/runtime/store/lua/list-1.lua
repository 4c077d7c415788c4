--[[
  One page of a tag set, resuming after a cursor (the last item's score and id).

  KEYS[1]   the tag set (sorted set, member = actor id)
  ARGV[1]   page size
  ARGV[2]   '1' for highest score first, '0' for lowest first
  ARGV[3]   cursor score, or '' for the first page
  ARGV[4]   cursor id
  Returns up to page size + 1 (id, score) pairs, flattened; the extra one tells a next page exists.
]]
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local descending = ARGV[2] == '1'
if ARGV[3] == '' then
  if descending then
    return redis.call('ZREVRANGE', key, 0, limit, 'WITHSCORES')
  end
  return redis.call('ZRANGE', key, 0, limit, 'WITHSCORES')
end
-- While the cursor's member is still where it was, resume right after it, ties included.
local current = redis.call('ZSCORE', key, ARGV[4])
if current and tonumber(current) == tonumber(ARGV[3]) then
  local rank
  if descending then
    rank = redis.call('ZREVRANK', key, ARGV[4])
    return redis.call('ZREVRANGE', key, rank + 1, rank + 1 + limit, 'WITHSCORES')
  end
  rank = redis.call('ZRANK', key, ARGV[4])
  return redis.call('ZRANGE', key, rank + 1, rank + 1 + limit, 'WITHSCORES')
end
-- The member moved or left: continue strictly past its score.
if descending then
  return redis.call('ZREVRANGEBYSCORE', key, '(' .. ARGV[3], '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
end
return redis.call('ZRANGEBYSCORE', key, '(' .. ARGV[3], '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
