-- Takes the timers due at ARGV[1]: each is re-armed ARGV[2] ms later in the same step, so
-- a second caller does not see it, and a caller that dies before handling it leaves it to
-- fire again. KEYS[1] = the timers zset. ARGV: now, leaseMs, limit. Returns member, deadline pairs.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local rearm = string.format('%.0f', tonumber(ARGV[1]) + tonumber(ARGV[2]))
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[1], rearm, due[i])
end
return due
