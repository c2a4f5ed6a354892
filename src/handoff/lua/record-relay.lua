-- recordRelay: KEYS relay:seen:<key>, relay:stream, relay:ids, relay:lease:<key>;
-- ARGV key, entry JSON, dedup TTL, live lease ms (0: none), group. The marker and
-- the outbox entry are written together, so a recorded relay is never both "seen"
-- and missing from the outbox; the live sender's lease in the same step, so the
-- resend tick never picks up what the live path is about to send.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[5], '0', 'MKSTREAM') end
local id = redis.call('XADD', KEYS[2], '*', 'k', ARGV[1], 'e', ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], id)
if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[4], '1', 'PX', ARGV[4]) end
return 1
