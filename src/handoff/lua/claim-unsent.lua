-- claimUnsent: KEYS relay:stream; ARGV group, consumer, idle ms, limit, lease ms, prefix.
-- Entries a dead sender left (pending longer than the idle time: XAUTOCLAIM) and
-- entries no sender has seen yet (XREADGROUP, never BLOCK: a script must not block);
-- of those, the ones whose lease this call takes. An entry leased elsewhere (the
-- live path is sending it) stays pending here and is looked at again after the
-- idle time, when it is either acknowledged by its sender or its lease has run out.
-- The lease keys are built from the prefix, so they share the stream's hash tag.
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0')
local limit = tonumber(ARGV[4])
local batch = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', limit)[2]
local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', limit, 'STREAMS', KEYS[1], '>')
if fresh then for _, entry in ipairs(fresh[1][2]) do batch[#batch + 1] = entry end end
local out = {}
for _, entry in ipairs(batch) do
  local fields = entry[2]
  local key, json
  for i = 1, #fields, 2 do
    if fields[i] == 'k' then key = fields[i + 1] elseif fields[i] == 'e' then json = fields[i + 1] end
  end
  if key and json and redis.call('SET', ARGV[6] .. 'relay:lease:' .. key, '1', 'NX', 'PX', ARGV[5]) then out[#out + 1] = json end
end
return out
