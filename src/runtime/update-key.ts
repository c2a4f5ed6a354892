/**
 * Which queue an update waits in: a private chat's updates one after another
 * (the family's answers must apply in order); in a group, one queue per forum
 * topic, so the operators' cases do not wait for each other. Read defensively:
 * any update, however malformed, gets a key, and the key names no person in a
 * log because it never goes to one.
 */
type Loose = Record<string, unknown> | undefined;

const asObject = (value: unknown): Loose => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined);
const asId = (value: unknown): string | undefined => (typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined);

export function sequenceKeyOf(update: unknown): string {
  const u = asObject(update) ?? {};
  for (const [field, value] of Object.entries(u)) {
    if (field === 'update_id') continue;
    const body = asObject(value);
    if (!body) continue;
    // A pressed button carries its message's chat; a message its own.
    const message = asObject(body.message);
    const chat = asObject(body.chat) ?? asObject(message?.chat);
    const chatId = asId(chat?.id);
    if (chatId !== undefined) {
      if (chat?.type === 'private') return `chat:${chatId}`;
      const thread = asId(body.message_thread_id) ?? asId(message?.message_thread_id);
      return thread === undefined ? `chat:${chatId}` : `chat:${chatId}:${thread}`;
    }
    const from = asId(asObject(body.from)?.id);
    if (from !== undefined) return `user:${from}`;
  }
  // Nothing to order by: a queue of its own.
  return `update:${asId(u.update_id) ?? 'none'}`;
}
