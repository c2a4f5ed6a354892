-- claim: as update, but only a waiting case at the expected version is taken.
-- Returns {won, status, holder}; the loser learns the status and holder it lost to.
local id = ARGV[3]
local before = hgetall(KEYS[1])
if before.id == nil then return { 0, 'closed', '' } end
if before.status ~= 'waiting' or tonumber(before.version) ~= tonumber(ARGV[4]) then
  local holder = ''
  if held(before.status) and before.operatorId then holder = before.operatorId end
  return { 0, before.status, holder }
end
local ev = cjson.decode(ARGV[6])
local after = applied(before, cjson.decode(ARGV[5]))
after.version = int(tonumber(before.version) + 1)
normalize(id, after, ev.at)
write(KEYS[1], before, after)
reindex(id, before, after, ev.at)
audit(id, ev)
return { 1, after.status, after.operatorId or '' }
