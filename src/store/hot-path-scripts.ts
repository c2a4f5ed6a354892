/** The hot path's Lua scripts (src/store/hot-path-*.lua, used by hot-path.ts), registered in src/store/scripts.ts. */
import { luaScript, readLua } from './lua.js';

const lua = (file: string): string => readLua(`./${file}`, import.meta.url);
/** acted and commit write a session and a dialog the same way: hot-path-apply.lua, then the script. */
const writing = (file: string) => luaScript(`${lua('hot-path-apply.lua')}\n${lua(file)}`);

export const hotPathScripts = {
  hotPathBegin: luaScript(lua('hot-path-begin.lua')),
  hotPathActed: writing('hot-path-acted.lua'),
  hotPathCommit: writing('hot-path-commit.lua'),
};
