-- Links a Telegram user to a worker: one account per worker, one worker per account.
-- KEYS[1] = the worker's link key (names the slot). ARGV: base, workerId, userId.
-- Returns the user id the worker was linked to before, or false.
local B, workerId, userId = ARGV[1], ARGV[2], ARGV[3]
local previousUser = redis.call('GET', KEYS[1])
if previousUser and previousUser ~= userId then redis.call('DEL', B .. 'link:u:' .. previousUser) end
local previousWorker = redis.call('GET', B .. 'link:u:' .. userId)
if previousWorker and previousWorker ~= workerId then redis.call('DEL', B .. 'link:w:' .. previousWorker) end
redis.call('SET', KEYS[1], userId)
redis.call('SET', B .. 'link:u:' .. userId, workerId)
if previousUser == userId then return false end
return previousUser
