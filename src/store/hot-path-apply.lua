-- Shared by hot-path-acted.lua and hot-path-commit.lua (hot-path-scripts.ts puts it in front of each):
-- one slot's write — op 's' sets the JSON with its TTL, 'd' deletes, '-' leaves it — and, with any
-- write, the deletion of the release-before key `old` (single Redis only), so it never comes back.
local function apply(op, key, json, ttl, old)
  if op == 's' then
    redis.call('SET', key, json, 'EX', ttl)
  elseif op == 'd' then
    redis.call('DEL', key)
  end
  if op ~= '-' and old then redis.call('DEL', old) end
end
