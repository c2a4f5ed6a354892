-- Shared by the scripts that change a case (prepended to each by src/handoff/scripts.ts,
-- after a header that defines PERSONAL_FIELDS, FREE_TEXT_EVENTS and TIMER_KINDS from codec.ts).
-- ARGV[1] is the key prefix (it carries the store's hash tag, so every key built
-- from it is in the slot of the declared KEYS) and ARGV[2] the TTL in seconds.
-- Numbers that Redis must store exactly are formatted with %.0f: Lua's tostring keeps only 14 digits.
local P = ARGV[1]
local TTL = ARGV[2]

local FREE_TEXT = {}
for _, t in ipairs(FREE_TEXT_EVENTS) do FREE_TEXT[t] = true end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function held(status)
  return status ~= nil and status ~= 'waiting' and status ~= 'closed'
end

local function int(n)
  return string.format('%.0f', n)
end

local function stat(name, score, member, at)
  local key = P .. 'stats:' .. name
  redis.call('ZADD', key, score, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. int(tonumber(at) - tonumber(TTL) * 1000))
end

local function applied(before, change)
  local after = {}
  for k, v in pairs(before) do after[k] = v end
  for k, v in pairs(change.set) do after[k] = v end
  for _, k in ipairs(change.del) do after[k] = nil end
  return after
end

-- /forget: the record loses what could name the family; note texts leave the
-- audit (their type and time stay; stream ids are kept by re-adding under them).
local function erase(id, rec)
  if rec.familyRef then redis.call('DEL', P .. 'family:' .. rec.familyRef .. ':announced') end
  rec.familyRef = nil
  for _, field in ipairs(PERSONAL_FIELDS) do rec[field] = nil end
  rec.withdrawn = '1'
  redis.call('DEL', P .. 'case:' .. id .. ':pending')
  local key = P .. 'case:' .. id .. ':audit'
  local entries = redis.call('XRANGE', key, '-', '+')
  redis.call('DEL', key)
  for _, entry in ipairs(entries) do
    local flat, fields, freeText = entry[2], {}, false
    for i = 1, #flat, 2 do
      if flat[i] == 'type' and FREE_TEXT[flat[i + 1]] then freeText = true end
    end
    for i = 1, #flat, 2 do
      if not (freeText and flat[i] == 'detail') then fields[#fields + 1] = flat[i]; fields[#fields + 1] = flat[i + 1] end
    end
    redis.call('XADD', key, entry[1], unpack(fields))
  end
  if #entries > 0 then redis.call('EXPIRE', key, TTL) end
end

-- A case that enters the line without a place keeps the time it entered. A
-- closed case keeps no chat id (only the pseudonym links it to the family), and
-- one whose family used /forget meanwhile is erased as it closes.
local function normalize(id, after, at)
  if after.status == 'waiting' and after.enqueuedAt == nil then after.enqueuedAt = at end
  if after.status == 'closed' then
    after.chatId = nil
    if after.withdrawn == '1' then erase(id, after) end
  end
end

local function write(key, before, after)
  local sets = {}
  for k, v in pairs(after) do
    if before[k] ~= v then sets[#sets + 1] = k; sets[#sets + 1] = v end
  end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  local dels = {}
  for k, _ in pairs(before) do
    if after[k] == nil then dels[#dels + 1] = k end
  end
  if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
  redis.call('EXPIRE', key, TTL)
end

-- The indexes follow the record: line, operator's cases, family, topic, stats, timers.
local function reindex(id, before, after, at)
  local line = P .. 'line'
  if after.status == 'waiting' then
    local band = 1
    if after.urgent == '1' then band = 0 end
    redis.call('ZADD', line, int(band * 1e13 + tonumber(after.enqueuedAt)), id)
  else
    redis.call('ZREM', line, id)
  end

  local heldBefore = held(before.status) and before.operatorId or nil
  local heldAfter = held(after.status) and after.operatorId or nil
  if heldBefore and heldBefore ~= heldAfter then redis.call('SREM', P .. 'operator:' .. heldBefore .. ':cases', id) end
  if heldAfter then redis.call('SADD', P .. 'operator:' .. heldAfter .. ':cases', id) end

  if before.familyRef and (before.familyRef ~= after.familyRef or after.status == 'closed') then
    local key = P .. 'family:' .. before.familyRef
    if redis.call('GET', key) == id then redis.call('DEL', key) end
    if before.familyRef ~= after.familyRef then redis.call('SREM', key .. ':cases', id) end
  end
  if after.familyRef then
    local key = P .. 'family:' .. after.familyRef
    if after.status ~= 'closed' then
      local current = redis.call('GET', key)
      if current == false or current == id then redis.call('SET', key, id, 'EX', TTL) end
    end
    redis.call('SADD', key .. ':cases', id)
    redis.call('EXPIRE', key .. ':cases', TTL)
  end

  if before.topicId and before.topicId ~= after.topicId then
    local key = P .. 'topic:' .. before.topicId
    if redis.call('GET', key) == id then redis.call('DEL', key) end
  end
  if after.topicId then redis.call('SET', P .. 'topic:' .. after.topicId, id, 'EX', TTL) end

  if after.status == 'claimed' and before.status ~= 'claimed' then stat('claimed', at, id, at) end
  if after.status == 'closed' and before.status ~= 'closed' then
    stat('closed', after.closedAt or at, id, at)
    local members = {}
    for _, kind in ipairs(TIMER_KINDS) do members[#members + 1] = id .. '|' .. kind end
    redis.call('ZREM', P .. 'timers', unpack(members))
  end
  if after.firstResponseAt and not before.firstResponseAt then
    local wait = tonumber(after.firstResponseAt) - tonumber(after.createdAt)
    stat('first_response', after.firstResponseAt, id .. '|' .. int(wait), at)
  end
end

local function audit(id, ev)
  local key = P .. 'case:' .. id .. ':audit'
  local fields = { 'type', ev.type, 'by', ev.by, 'at', ev.at }
  if ev.detail then fields[#fields + 1] = 'detail'; fields[#fields + 1] = ev.detail end
  redis.call('XADD', key, '*', unpack(fields))
  redis.call('EXPIRE', key, TTL)
end
