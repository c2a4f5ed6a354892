-- claimAnnouncement: KEYS[1] family:<ref>:announced; ARGV at, window ms.
-- The time is the caller's clock; the TTL only cleans up.
local last = redis.call('GET', KEYS[1])
if last and tonumber(ARGV[1]) - tonumber(last) < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
