/** The hot path's Lua scripts (src/store/hot-path-*.lua, used by hot-path.ts), registered in src/store/scripts.ts. */
import { luaScript, readLua } from './lua.js';

export const hotPathScripts = {
  hotPathBegin: luaScript(readLua('./hot-path-begin.lua', import.meta.url)),
  hotPathActed: luaScript(readLua('./hot-path-acted.lua', import.meta.url)),
  hotPathCommit: luaScript(readLua('./hot-path-commit.lua', import.meta.url)),
};
