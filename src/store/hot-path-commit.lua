-- commit: the second of an update's two round trips (src/store/hot-path.ts).
-- Only while this process still holds the lock (the token fences a holder whose lease expired):
-- writes the session and the dialog, marks the update done and releases the lock.
-- KEYS[1] updates, KEYS[2] lock, KEYS[3] session, KEYS[4] dialog; on a single Redis also
-- KEYS[5] session and KEYS[6] dialog of the release before, deleted with any write so they never come back.
-- ARGV[1] lock token, ARGV[2] 'done' | 'abandon' (failed before acting: nothing is written and a
-- redelivery runs it), ARGV[3] updates TTL s,
-- ARGV[4] session op ('-' none, 's' set, 'd' delete), ARGV[5] session JSON, ARGV[6] session TTL s,
-- ARGV[7] dialog op, ARGV[8] dialog JSON, ARGV[9] dialog TTL s.
-- Returns 1, or 0 when the lock was lost (nothing written).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end

-- apply(op, key, json, ttl, old): hot-path-apply.lua, put in front of this script.
if ARGV[2] == 'done' then
  apply(ARGV[4], KEYS[3], ARGV[5], ARGV[6], KEYS[5])
  apply(ARGV[7], KEYS[4], ARGV[8], ARGV[9], KEYS[6])
  if ARGV[4] == 'd' and ARGV[7] == 'd' then
    -- /forget: the family's order and dedup record goes with everything else.
    redis.call('DEL', KEYS[1])
  else
    redis.call('HSET', KEYS[1], 'st', 'done')
    redis.call('EXPIRE', KEYS[1], ARGV[3])
  end
elseif redis.call('HGET', KEYS[1], 'st') == 'run:' .. ARGV[1] then
  redis.call('HDEL', KEYS[1], 'st')
end
redis.call('DEL', KEYS[2])
return 1
