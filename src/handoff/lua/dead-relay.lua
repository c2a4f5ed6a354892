-- deadRelay: KEYS relay:dead, then ackRelay's keys; ARGV key, group, caseId, direction, reason, attempts.
redis.call('XADD', KEYS[1], 'MAXLEN', '~', '1000', '*', 'k', ARGV[1], 'caseId', ARGV[3], 'direction', ARGV[4], 'reason', ARGV[5], 'attempts', ARGV[6])
local id = redis.call('HGET', KEYS[2], ARGV[1])
if id then
  redis.pcall('XACK', KEYS[3], ARGV[2], id)
  redis.call('XDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[2], ARGV[1])
end
redis.call('DEL', KEYS[4])
redis.call('HDEL', KEYS[5], ARGV[1])
return 1
