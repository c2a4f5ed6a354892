-- update: KEYS[1] case:<id>; ARGV prefix, ttl, id, expected version, change JSON, event JSON.
-- Nil on a stale version, else the record after the change.
local id = ARGV[3]
local before = hgetall(KEYS[1])
if before.id == nil or tonumber(before.version) ~= tonumber(ARGV[4]) then return false end
local ev = cjson.decode(ARGV[6])
local after = applied(before, cjson.decode(ARGV[5]))
after.version = int(tonumber(before.version) + 1)
normalize(id, after, ev.at)
write(KEYS[1], before, after)
reindex(id, before, after, ev.at)
audit(id, ev)
return redis.call('HGETALL', KEYS[1])
