"""The queue's atomic steps, as Lua scripts Redis runs whole: enqueue, claim, requeue, record a silence.

Each step reads and writes several keys (``queue.py`` lists them); run as one script, no other
worker sees it half done, which is what makes a (message, target) pair queued or settled exactly once
with two notifier instances claiming from the same queue.
"""

from __future__ import annotations

# KEYS: body, items, queue, done keys...; ARGV: body, body ttl, due, (item id, state) per done key.
ENQUEUE = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
local queued = 0
for j = 1, #KEYS - 3 do
  local item = ARGV[2 + 2 * j]
  if redis.call('EXISTS', KEYS[3 + j]) == 0 and redis.call('HSETNX', KEYS[2], item, ARGV[3 + 2 * j]) == 1 then
    redis.call('ZADD', KEYS[3], ARGV[3], item)
    queued = queued + 1
  end
end
if queued > 0 and redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return queued
"""

# KEYS: done, silenced list; ARGV: record, done ttl, how many records to keep. A pair already settled
# (or silenced) is left as it is: recording a silence is idempotent.
SILENCE = """
if redis.call('SET', KEYS[1], 'silenced', 'NX', 'EX', ARGV[2]) == false then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
return 1
"""

# KEYS: queue, items; ARGV: now, lease deadline, batch size, due items to look at, free slots of a
# destination not listed, how many item ids follow, the ids this worker still holds (never claimed
# again: their attempt may have just rescheduled them), then (destination, free slots) pairs. Returns
# (item id, destination) pairs, flattened, that this worker now owns; an item settled meanwhile (no
# state) leaves the queue.
CLAIM = """
local function destination(url)
  local scheme, authority = string.match(url, '^(%a[%w+.-]*)://([^/?#]*)')
  if not scheme then return '?' end
  authority = string.gsub(authority, '^.*@', '')
  return string.lower(scheme .. '://' .. authority)
end
local batch, unlisted, held_count = tonumber(ARGV[3]), tonumber(ARGV[5]), tonumber(ARGV[6])
local held, free, claimed = {}, {}, {}
for i = 7, 6 + held_count do held[ARGV[i]] = true end
for i = 7 + held_count, #ARGV, 2 do free[ARGV[i]] = tonumber(ARGV[i + 1]) end
if batch < 1 then return claimed end
for _, item in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[4])) do
  local state = redis.call('HGET', KEYS[2], item)
  if held[item] then
    -- this worker's own attempt is still finishing: its schedule must stay as that attempt left it
  elseif not state then
    redis.call('ZREM', KEYS[1], item)
  else
    local ok, decoded = pcall(cjson.decode, state)
    local where = '?'
    if ok and type(decoded) == 'table' and type(decoded.url) == 'string' then where = destination(decoded.url) end
    local slots = free[where] or unlisted
    if slots > 0 then
      redis.call('ZADD', KEYS[1], ARGV[2], item)
      free[where] = slots - 1
      claimed[#claimed + 1] = item
      claimed[#claimed + 1] = where
      if #claimed >= 2 * batch then break end
    end
  end
end
return claimed
"""
# How many due items one claim looks at: items of full destinations are passed over, so this bounds
# the work of a claim while a dead receiver has many items due.
CLAIM_SCAN = 1000

# KEYS: body, items, queue, done; ARGV: item id, state, due. 0: body expired, 1: queued, 2: already queued.
REQUEUE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 2 end
redis.call('DEL', KEYS[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1
"""
