-- set: KEYS values, version, audit; ARGV field, stored value JSON. Returns the value it replaced ('' if none).
-- Value, version and audit change together, so no process sees a new value without its audit entry.
local previous = redis.call('HGET', KEYS[1], ARGV[1]) or ''
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], '*', 'entry', ARGV[2], 'previous', previous)
return previous
