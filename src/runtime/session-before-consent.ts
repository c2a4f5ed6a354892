/**
 * Nothing is kept for a chat that has not agreed to anything: a session whose
 * only content is bookkeeping (which message carries the buttons) is not
 * written, and one that was stored is removed. A chosen language, the consent
 * itself, a deep-link source or a pending call-back are kept: the family did
 * something that needs them. So a chat that only ever sent stickers or junk
 * leaves no key named after it.
 */
import type { StorageAdapter } from 'grammy';
import type { SessionData } from '../bot/context.js';

/** Fields that alone do not justify a key named after the chat. */
const BOOKKEEPING = new Set<keyof SessionData>(['lastKeyboardMessageId']);

export function isOnlyBookkeeping(value: SessionData): boolean {
  return Object.entries(value).every(([k, v]) => v === undefined || BOOKKEEPING.has(k as keyof SessionData));
}

export function sessionBeforeConsent(storage: StorageAdapter<SessionData>): StorageAdapter<SessionData> {
  return {
    read: (key) => storage.read(key),
    write: async (key, value) => {
      if (!isOnlyBookkeeping(value)) return storage.write(key, value);
      // Read first: most junk-only chats have nothing stored, and a delete would count as the update acting.
      if ((await storage.read(key)) !== undefined) await storage.delete(key);
    },
    delete: (key) => storage.delete(key),
  };
}
