-- begin: the first of an update's two round trips (src/store/hot-path.ts).
-- Claims the update, takes the scope's lock in update_id order, and returns the session and dialog.
-- KEYS[1] updates (hash: id = highest update claimed, st = its state 'run:<token>' | 'sent:<token>' | 'done' | absent
--         when it gave up before acting, w:<id> = a waiting update's deadline, epoch ms)
-- KEYS[2] lock, KEYS[3] session, KEYS[4] dialog; on a single Redis also the keys of the release
-- before (read for one TTL as a fallback): KEYS[5] seen:<update_id>, KEYS[6] lock, KEYS[7] session, KEYS[8] dialog.
-- ARGV[1] update_id, ARGV[2] lock token, ARGV[3] lease ms, ARGV[4] updates TTL s,
-- ARGV[5] '1' when the scope is ordered (a private chat), ARGV[6] how long a waiting update holds its place, ms.
-- Returns {'stale'} | {'done'} | {'sent'} | {'busy'} | {'new' | 'rerun', session or '', dialog or ''}.
local id = tonumber(ARGV[1])
local ordered = ARGV[5] == '1'
local h = redis.call('HMGET', KEYS[1], 'id', 'st')
local last = h[1] and tonumber(h[1])
local st = h[2]
local mine = 'w:' .. ARGV[1]

local function drop(outcome)
  redis.call('HDEL', KEYS[1], mine)
  return {outcome}
end

-- Older than an update already claimed for this chat: applying it would overwrite a later answer.
if last and id < last then return drop('stale') end
if last == id and st == 'done' then return drop('done') end
-- It has acted (its first Bot API request left), whether its holder still runs or died: never twice.
if last == id and st and string.sub(st, 1, 5) == 'sent:' then return drop('sent') end
local rerun = last == id and st ~= false

if #KEYS > 4 then
  local seen = redis.call('GET', KEYS[5])
  if seen == 'sent' or seen == 'done' then return drop(seen) end
  -- A process of the release before holds this chat: wait for it as for our own lock.
  if redis.call('EXISTS', KEYS[6]) == 1 then return {'busy'} end
  if seen then rerun = true end
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function wait()
  if ordered and not (last and id <= last) then
    redis.call('HSET', KEYS[1], mine, now + tonumber(ARGV[6]))
    redis.call('EXPIRE', KEYS[1], ARGV[4])
  end
  return {'busy'}
end

if redis.call('EXISTS', KEYS[2]) == 1 then return wait() end
if ordered then
  -- An earlier update of this chat is waiting on another process: it goes first.
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local field = all[i]
    if string.sub(field, 1, 2) == 'w:' then
      local other = tonumber(string.sub(field, 3))
      if tonumber(all[i + 1]) < now or (last and other <= last) then
        redis.call('HDEL', KEYS[1], field)
      elseif other < id then
        return wait()
      end
    end
  end
end

redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'st', 'run:' .. ARGV[2])
redis.call('HDEL', KEYS[1], mine)
redis.call('EXPIRE', KEYS[1], ARGV[4])
local session = redis.call('GET', KEYS[3])
local dialog = redis.call('GET', KEYS[4])
if #KEYS > 4 then
  if not session then session = redis.call('GET', KEYS[7]) end
  if not dialog then dialog = redis.call('GET', KEYS[8]) end
end
return {rerun and 'rerun' or 'new', session or '', dialog or ''}
