-- Writes a referral compare-and-set, with its audit line and its notices, and moves the
-- indexes after the record. KEYS[1] = the record key (names the slot; every key shares {ref}).
-- ARGV: base, id, expectedVersion (-1: must not exist), record JSON, personal JSON ('' = none),
--       personal TTL ms (0 = none), family ref ('' = none), audit what, who, at, detail,
--       capacity guard: worker id ('' = none) and the open referrals they may hold at most,
--       then the notices as pairs: event id, event JSON.
-- Returns 1 when written, 0 when the version did not match (or the id exists, for a create),
-- or when the guarded worker is full (routing counted them before a concurrent assignment).
local B, id, expected = ARGV[1], ARGV[2], tonumber(ARGV[3])
local recKey = KEYS[1]

local current = redis.call('GET', recKey)
local before = {}
if expected < 0 then
  if current then return 0 end
else
  if not current then return 0 end
  before = cjson.decode(current)
  if tonumber(before.version) ~= expected then return 0 end
end
local after = cjson.decode(ARGV[4])

if ARGV[12] ~= '' then
  local held = B .. 'w:' .. ARGV[12]
  if redis.call('SISMEMBER', held, id) == 0 and redis.call('SCARD', held) >= tonumber(ARGV[13]) then return 0 end
end

local function open(status)
  return status == 'requested' or status == 'accepted' or status == 'in-progress'
end
local function str(v)
  if v == nil or v == cjson.null then return nil end
  return tostring(v)
end

redis.call('SET', recKey, ARGV[4])

local personalKey = recKey .. ':p'
if ARGV[5] == '' then
  redis.call('DEL', personalKey)
else
  local ttl = tonumber(ARGV[6])
  if ttl > 0 then
    redis.call('SET', personalKey, ARGV[5], 'PX', ARGV[6])
  else
    redis.call('SET', personalKey, ARGV[5])
  end
end

-- The holder's open set (routing load counts, /referrals) and the territory index.
-- The holder is the worker, or the supervisor it went to when nobody else could take it.
local function holder(r)
  if not open(r.status) then return nil end
  return str(r.workerId) or str(r.supervisorId)
end
local wasHeld = holder(before)
local isHeld = holder(after)
if wasHeld and wasHeld ~= isHeld then redis.call('SREM', B .. 'w:' .. wasHeld, id) end
if isHeld then redis.call('SADD', B .. 'w:' .. isHeld, id) end
local wasIn = open(before.status) and str(before.region) or nil
local isIn = open(after.status) and str(after.region) or nil
if wasIn and wasIn ~= isIn then redis.call('SREM', B .. 'reg:' .. wasIn, id) end
if isIn then redis.call('SADD', B .. 'reg:' .. isIn, id) end

if expected < 0 then
  redis.call('ZADD', B .. 'created', string.format('%.0f', tonumber(after.createdAt)), id)
  if ARGV[7] ~= '' then redis.call('SADD', B .. 'fam:' .. ARGV[7], id) end
end

local audit = { 'what', ARGV[8], 'who', ARGV[9], 'at', ARGV[10] }
if ARGV[11] ~= '' then audit[#audit + 1] = 'detail'; audit[#audit + 1] = ARGV[11] end
redis.call('XADD', recKey .. ':audit', '*', unpack(audit))

for i = 14, #ARGV, 2 do
  redis.call('XADD', B .. 'outbox', '*', 'id', ARGV[i], 'data', ARGV[i + 1])
end
return 1
