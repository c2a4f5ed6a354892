/**
 * The handoff store's Lua scripts (src/handoff/lua/*.lua), registered with the
 * Redis client in src/store/scripts.ts and called as `redis.handoffCreate(keys, args)` etc.
 * The scripts that change a case share prelude.lua; the lists they need from
 * codec.ts are handed over in a generated header, so there is one source for them.
 */
import { luaScript, luaStrings, readLua } from '../store/lua.js';
import { FREE_TEXT_EVENTS, PERSONAL_FIELDS, TIMER_KINDS } from './codec.js';

const lua = (file: string): string => readLua(`./lua/${file}`, import.meta.url);

const HEADER = [
  `local PERSONAL_FIELDS = ${luaStrings(PERSONAL_FIELDS)}`,
  `local FREE_TEXT_EVENTS = ${luaStrings(FREE_TEXT_EVENTS)}`,
  `local TIMER_KINDS = ${luaStrings(TIMER_KINDS)}`,
].join('\n');
const PRELUDE = `${HEADER}\n${lua('prelude.lua')}`;

/** A script that changes a case: the prelude, then its own part. */
const withPrelude = (file: string) => luaScript(`${PRELUDE}\n${lua(file)}`);
const alone = (file: string) => luaScript(lua(file));

export const handoffScripts = {
  handoffCreate: withPrelude('create.lua'),
  handoffUpdate: withPrelude('update.lua'),
  handoffClaim: withPrelude('claim.lua'),
  handoffSetFields: withPrelude('set-fields.lua'),
  handoffForget: withPrelude('forget.lua'),
  handoffTakeDue: alone('take-due.lua'),
  handoffRecordRelay: alone('record-relay.lua'),
  handoffAckRelay: alone('ack-relay.lua'),
  handoffClaimUnsent: alone('claim-unsent.lua'),
  handoffDeadRelay: alone('dead-relay.lua'),
  handoffAnnounce: alone('announce.lua'),
};
