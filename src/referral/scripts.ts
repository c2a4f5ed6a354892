/** The referral store's Lua scripts (src/referral/*.lua), registered in src/store/scripts.ts and called as `redis.referralWrite(keys, args)` etc. */
import { luaScript, readLua } from '../store/lua.js';

export const referralScripts = {
  referralWrite: luaScript(readLua('./write.lua', import.meta.url)),
  referralLink: luaScript(readLua('./link.lua', import.meta.url)),
  referralTakeDue: luaScript(readLua('./take-due.lua', import.meta.url)),
};
