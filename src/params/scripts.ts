/** The parameters store's Lua scripts (src/params/lua/*.lua), registered in src/store/scripts.ts. */
import { luaScript, readLua } from '../store/lua.js';

export const paramsScripts = {
  paramsSet: luaScript(readLua('./lua/set.lua', import.meta.url)),
  paramsTake: luaScript(readLua('./lua/take.lua', import.meta.url)),
};
