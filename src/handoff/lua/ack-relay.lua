-- ackRelay: KEYS relay:ids, relay:stream, relay:lease:<key>, relay:attempts; ARGV key, group.
-- Delivered (or given up): gone from the outbox.
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then
  redis.pcall('XACK', KEYS[2], ARGV[2], id)
  redis.call('XDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
