-- forgetFamily: KEYS[1] family:<ref>; ARGV prefix, ttl, family pseudonym, chat id.
-- Closed cases are erased now; an open one keeps only what the conversation needs
-- (chat id, pseudonym, the family index) and is erased when it closes (normalize).
-- Unsent relays of erased cases and from the family's chat go. Returns the ids touched.
-- Every key is built from the prefix (one hash tag), so on a cluster all are in KEYS[1]'s slot.
local familyKey = P .. 'family:' .. ARGV[3]
local ids = redis.call('SMEMBERS', familyKey .. ':cases')
local open = redis.call('GET', familyKey)
if open and redis.call('SISMEMBER', familyKey .. ':cases', open) == 0 then ids[#ids + 1] = open end
local touched, live, isLive, erased = {}, {}, {}, {}
for _, id in ipairs(ids) do
  local key = P .. 'case:' .. id
  local before = hgetall(key)
  if before.id then
    local after = applied(before, { set = {}, del = {} })
    if before.status == 'closed' then
      erase(id, after)
      erased[id] = true
    else
      for _, field in ipairs({ 'callbackPhone', 'summary', 'consentAt', 'region' }) do after[field] = nil end
      after.withdrawn = '1'
      live[#live + 1] = id
      isLive[id] = true
    end
    write(key, before, after)
    touched[#touched + 1] = id
  end
end
redis.call('DEL', familyKey .. ':cases', familyKey .. ':announced')
if #live > 0 then
  redis.call('SADD', familyKey .. ':cases', unpack(live))
  redis.call('EXPIRE', familyKey .. ':cases', TTL)
else
  redis.call('DEL', familyKey)
end
local outbox = redis.call('XRANGE', P .. 'relay:stream', '-', '+')
for _, item in ipairs(outbox) do
  local key, json
  for i = 1, #item[2], 2 do
    if item[2][i] == 'k' then key = item[2][i + 1] elseif item[2][i] == 'e' then json = item[2][i + 1] end
  end
  local entry = json and cjson.decode(json) or {}
  if key and (erased[entry.caseId] or (entry.fromChatId == tonumber(ARGV[4]) and not isLive[entry.caseId])) then
    redis.pcall('XACK', P .. 'relay:stream', 'senders', item[1])
    redis.call('XDEL', P .. 'relay:stream', item[1])
    redis.call('HDEL', P .. 'relay:ids', key)
    redis.call('HDEL', P .. 'relay:attempts', key)
    redis.call('DEL', P .. 'relay:lease:' .. key)
  end
end
return touched
