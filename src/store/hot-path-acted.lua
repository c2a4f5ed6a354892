-- acted: sent beside an update's first Bot API request (src/store/hot-path.ts), before it goes on the wire.
-- Only while this process still holds the lock: writes the session and dialog as they are now (so a
-- redelivery that finds the update acted finds the answer the family was shown), and marks the update
-- 'sent:<token>': a redelivery after this process dies is dropped, never answered twice.
-- KEYS and the session/dialog ARGV as in hot-path-commit.lua: KEYS[1] updates, KEYS[2] lock,
-- KEYS[3] session, KEYS[4] dialog, on a single Redis KEYS[5], KEYS[6] the release-before session and dialog.
-- ARGV[1] lock token, ARGV[2..4] session op, JSON, TTL s, ARGV[5..7] dialog op, JSON, TTL s.
-- Returns 1, or 0 when the lock was lost (nothing written).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end

-- apply(op, key, json, ttl, old): hot-path-apply.lua, put in front of this script.
apply(ARGV[2], KEYS[3], ARGV[3], ARGV[4], KEYS[5])
apply(ARGV[5], KEYS[4], ARGV[6], ARGV[7], KEYS[6])
redis.call('HSET', KEYS[1], 'st', 'sent:' .. ARGV[1])
return 1
