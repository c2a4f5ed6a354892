-- take: KEYS pending:<token>; ARGV the admin pressing the button.
-- Only the admin who proposed a change may confirm or cancel it; the first press takes it.
local by = redis.call('HGET', KEYS[1], 'by')
if not by then return false end
if by ~= ARGV[1] then return 'not_yours' end
local change = redis.call('HGET', KEYS[1], 'change')
redis.call('DEL', KEYS[1])
return change
