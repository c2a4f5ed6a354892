-- create: KEYS[1] case:<id>; ARGV prefix, ttl, id, record hash JSON, event JSON.
-- Refuses an existing id, and a family that already has an open case (a stale
-- family index pointing at a closed or expired case is cleared).
local id = ARGV[3]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local rec = cjson.decode(ARGV[4])
local ev = cjson.decode(ARGV[5])
if rec.familyRef and rec.status ~= 'closed' then
  local key = P .. 'family:' .. rec.familyRef
  local current = redis.call('GET', key)
  if current then
    local status = redis.call('HGET', P .. 'case:' .. current, 'status')
    if status and status ~= 'closed' then return 0 end
    redis.call('DEL', key)
  end
end
normalize(id, rec, ev.at)
write(KEYS[1], {}, rec)
reindex(id, {}, rec, ev.at)
stat('created', rec.createdAt, id, ev.at)
audit(id, ev)
return 1
