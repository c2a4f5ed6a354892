/**
 * After /forget, nothing of the family is left anywhere in Redis: every key under
 * the bot's prefix is read, whatever its type, and neither its name nor its
 * contents may hold the family's chat id (raw, or as the log's or the store's
 * pseudonym), what they wrote, their phone number, or the operator's note about
 * them. And the logs of the whole run hold no phone number and no message text.
 * Key-name agnostic on purpose: it holds whatever the stores' layout becomes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyRef } from '../../src/handoff/codec.js';
import { chatRef } from '../../src/log.js';
import { scanKeys, type Redis } from '../../src/store/redis.js';
import { answerUntil, startScreening } from '../helpers/family-dialog.js';
import { HandoffHarness, LOG_SALT, OPERATOR } from '../helpers/handoff-harness.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

let redis: Redis;
const prefixes: string[] = [];

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

/** Every key under the prefix with its contents as text, read by type. */
async function dumpAll(prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  for await (const keys of scanKeys(redis, pattern)) {
    for (const key of keys) {
      const type = await redis.type(key);
      let contents: unknown;
      if (type === 'string') contents = await redis.get(key);
      else if (type === 'hash') contents = await redis.hGetAll(key);
      else if (type === 'list') contents = await redis.lRange(key, 0, -1);
      else if (type === 'set') contents = await redis.sMembers(key);
      else if (type === 'zset') contents = await redis.zRangeWithScores(key, 0, -1);
      else if (type === 'stream') contents = await redis.xRange(key, '-', '+');
      else contents = `(${type})`;
      out.set(key, JSON.stringify(contents));
    }
  }
  return out;
}

/** The store's pseudonym salt, wherever the layout keeps it (a key whose name ends in "salt"). */
async function storedSalts(dump: Map<string, string>): Promise<string[]> {
  return [...dump].filter(([key]) => /salt\W*$/.test(key)).map(([, value]) => JSON.parse(value) as string);
}

const FAMILY = 987_650_001;
const OTHER_FAMILY = 987_650_002;
const PHONE = '+7 701 555 12 34';
const PHONE_DIGITS = '7015551234';
const FAMILY_TEXT = 'Меня зовут Айгерим, муж пьёт и кричит';
const NOTE = 'перезвонить по 87015551234 вечером';

describe('after /forget, a scan of every Redis key', () => {
  it('finds nothing of the family — id, pseudonyms, texts, phone, note — while another family is untouched', async () => {
    const prefix = uniquePrefix('test:privacy');
    prefixes.push(prefix);
    const hh = new HandoffHarness({ redis, prefix });
    const f = hh.family(FAMILY);
    await startScreening(f);
    await answerUntil(f, { in_danger_now: 'no', household_members: 4 }, (fact) => fact === 'children');
    const rec = await hh.open(f);
    await f.say(FAMILY_TEXT);
    await f.say(`мой номер ${PHONE}`);
    await hh.operator(OPERATOR).press(rec, 'take');
    await hh.operator(OPERATOR).write((await hh.get(rec.id)).topicId, 'Здравствуйте, я оператор');
    const prompt = (await hh.operator(OPERATOR).press(rec, 'note')).find((c) => c.method === 'sendMessage')!;
    await hh.operator(OPERATOR).replyToNotePrompt(prompt, NOTE);
    await hh.operator(OPERATOR).press(rec, 'cl:informed');

    // A second family, mid-screening, keeps everything.
    const other = hh.family(OTHER_FAMILY);
    await startScreening(other);
    await answerUntil(other, { in_danger_now: 'no', household_members: 3 }, (fact) => fact === 'children');

    const before = await dumpAll(prefix);
    const everything = (dump: Map<string, string>) => [...dump].map(([k, v]) => `${k}\n${v}`).join('\n');
    // The scan can see the family before /forget: otherwise it proves nothing.
    expect(everything(before)).toContain(NOTE);
    // Whatever pseudonyms the stores give the family's chat in key names: the hex tokens of the
    // keys that hold its answers (4 people; the other family has 3).
    const hexTokens = (key: string) => key.match(/[0-9a-f]{12,}/g) ?? [];
    const keyPseudonyms = [...before].filter(([, v]) => v.includes('household_members\\":4')).flatMap(([k]) => hexTokens(k));
    expect(keyPseudonyms.length).toBeGreaterThan(0);

    await f.say('/forget');
    const after = await dumpAll(prefix);
    const salts = await storedSalts(after);
    const traces = [
      String(FAMILY),
      chatRef(FAMILY, LOG_SALT),
      ...salts.map((salt) => familyRef(salt, FAMILY)),
      ...keyPseudonyms,
      FAMILY_TEXT,
      'Айгерим',
      PHONE,
      PHONE_DIGITS,
      NOTE,
    ];
    const found = [...after].flatMap(([key, value]) => traces.filter((t) => key.includes(t) || value.includes(t) || value.includes(JSON.stringify(t).slice(1, -1))).map((t) => `${t} in ${key}`));
    expect(found).toEqual([]);
    expect(everything(after)).toContain('household_members\\":3');

    // Nothing personal in the logs of the whole run either.
    const logs = hh.logLines.join('\n');
    for (const t of [String(FAMILY), String(OTHER_FAMILY), PHONE, PHONE_DIGITS, FAMILY_TEXT, 'Айгерим', NOTE]) expect(logs).not.toContain(t);
  });
});
