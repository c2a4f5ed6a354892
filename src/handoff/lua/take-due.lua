-- takeDue: KEYS[1] timers; ARGV now, limit.
-- Takes and removes due timers in one step, so each goes to one caller.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do redis.call('ZREM', KEYS[1], due[i]) end
return due
