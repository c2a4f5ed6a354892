/**
 * Telegram's updates have a known shape; one that does not (a number for a
 * text, a chat without an id, two kinds in one update) did not come from
 * Telegram and is dropped before any handler, the dedup or the session see it,
 * so it can neither break a handler nor leave anything stored. Checks only the
 * fields the bot reads. Returns why it is malformed, or undefined.
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isId = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);
const isString = (v: unknown) => typeof v === 'string';

function entitiesOk(v: unknown): boolean {
  return Array.isArray(v) && v.every((e) => isObj(e) && isString(e.type) && Number.isInteger(e.offset) && Number.isInteger(e.length));
}

function userOk(v: unknown): boolean {
  return isObj(v) && isId(v.id) && optional(v.language_code, isString) && optional(v.username, isString);
}

function chatOk(v: unknown): boolean {
  return isObj(v) && isId(v.id) && isString(v.type);
}

function messageProblem(m: unknown): string | undefined {
  if (!isObj(m)) return 'message is not an object';
  if (!isId(m.message_id)) return 'message_id';
  if (!chatOk(m.chat)) return 'message.chat';
  if (!optional(m.from, userOk)) return 'message.from';
  if (!optional(m.text, isString)) return 'message.text';
  if (!optional(m.caption, isString)) return 'message.caption';
  if (!optional(m.entities, entitiesOk)) return 'message.entities';
  if (!optional(m.caption_entities, entitiesOk)) return 'message.caption_entities';
  if (!optional(m.message_thread_id, isId)) return 'message.message_thread_id';
  if (m.reply_to_message !== undefined && !isObj(m.reply_to_message)) return 'message.reply_to_message';
  if (m.contact !== undefined && !(isObj(m.contact) && isString(m.contact.phone_number))) return 'message.contact';
  return undefined;
}

const MESSAGE_KINDS = new Set(['message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_message', 'edited_business_message']);

export function malformedReason(update: unknown): string | undefined {
  if (!isObj(update) || !isId(update.update_id)) return 'update_id';
  const kinds = Object.keys(update).filter((k) => k !== 'update_id');
  if (kinds.length !== 1) return kinds.length === 0 ? 'no update kind' : 'more than one update kind';
  const kind = kinds[0]!;
  const body = update[kind];
  if (MESSAGE_KINDS.has(kind)) return messageProblem(body);
  if (!isObj(body)) return `${kind} is not an object`;
  if (kind === 'callback_query') {
    if (!isString(body.id)) return 'callback_query.id';
    if (!userOk(body.from)) return 'callback_query.from';
    if (!optional(body.data, isString)) return 'callback_query.data';
    if (body.message !== undefined && !(isObj(body.message) && chatOk(body.message.chat) && isId(body.message.message_id))) return 'callback_query.message';
    return undefined;
  }
  // Other kinds (chat members, reactions, join requests…): the ids the bot might read.
  if (!optional(body.chat, chatOk)) return `${kind}.chat`;
  if (!optional(body.from, userOk)) return `${kind}.from`;
  return undefined;
}
