/**
 * /directory reload on a real Redis: the open referrals of a worker who left the directory go to
 * a worker who fits, the admin hears the counts (nothing personal), the new worker gets the card,
 * and the family hears nothing.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from '../../src/store/redis.js';
import { ADMIN, GROUP, sentTo } from '../helpers/handoff-harness.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { DIRECTORY_YAML, lastShown, ReferralBotHarness, textsTo, WORKER_USER } from './bot-referral-harness.js';

const base = uniquePrefix('test:referral-bot-reload');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, base);
  redis.destroy();
});

const FAMILY = 7701;

describe('/directory reload', () => {
  it('re-routes the referrals of a worker who left, tells the admin how many, and the new worker gets the card', async () => {
    const rb = new ReferralBotHarness(redis, `${base}1:`);
    await rb.link('w-ast-1');
    await rb.link('w-ast-2');
    const { referral } = await rb.service.create({
      packet: { lang: 'ru', region: 'astana', urgent: false, profile: 'assessment', result: [], receives: [], contact: { kind: 'telegram' }, admissionRoutes: [] },
      familyChatId: FAMILY,
      source: 'family',
      actor: { kind: 'family' },
    });
    expect(referral.workerId).toBe('w-ast-1');
    await rb.deliver();

    writeFileSync(rb.directoryPath, DIRECTORY_YAML.replace(/ {2}- id: w-ast-1\n[\s\S]*?(?= {2}- id: w-ast-2)/, ''));
    const reply = sentTo(await rb.hh.operator(ADMIN).command('/directory reload'), GROUP)[0]!;
    expect(reply.split('\n').slice(0, 2)).toEqual(['Directory reloaded: 2 organisations, 4 workers.', 'Open referrals whose holder no longer fits: 1 re-routed, 0 to supervisors, 0 unrouted.']);
    expect(reply).not.toContain(referral.id);

    const told = await rb.deliver();
    const card = lastShown(told, WORKER_USER['w-ast-2'])!;
    expect(card.text.startsWith('👥 Передано Вам')).toBe(true);
    expect(card.data).toContain(`w|${referral.id}|ac`);
    expect(textsTo(told, WORKER_USER['w-ast-1'])).toEqual([`Направление ${referral.id} передано другому сотруднику.`]);
    expect(textsTo(told, FAMILY)).toEqual([]);
    expect((await rb.service.auditTrail(referral.id)).at(-1)).toMatchObject({ what: 'REROUTE', detail: 'directory reloaded→w-ast-2' });
    expect(rb.missingKeys()).toEqual([]);

    // The same directory again: nothing left to move.
    expect(sentTo(await rb.hh.operator(ADMIN).command('/directory reload'), GROUP)[0]).toContain('0 re-routed, 0 to supervisors, 0 unrouted.');
    expect(await rb.deliver()).toEqual([]);
  });
});
