-- setFields: KEYS[1] case:<id>; ARGV prefix, ttl, id, change JSON, now.
-- No version change, no audit; a missing case stays missing.
local id = ARGV[3]
local before = hgetall(KEYS[1])
if before.id == nil then return 0 end
local after = applied(before, cjson.decode(ARGV[4]))
normalize(id, after, ARGV[5])
write(KEYS[1], before, after)
reindex(id, before, after, ARGV[5])
return 1
