import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { packet } from './fixtures.js';
import { as, makeHarness } from './harness.js';

const prefix = uniquePrefix('test:refauthz');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

const STRANGER = 987_654_321;

async function setup() {
  const h = await makeHarness('redis', redis, prefix);
  const { referral } = await h.service.create({ packet: packet(), familyChatId: 700_000_009, source: 'family', actor: { kind: 'family' } });
  await h.deliver();
  return { h, id: referral.id };
}

describe('who may act on a referral', () => {
  it("a worker from another region pressing a button is refused, changes nothing, and the attempt is in the audit", async () => {
    const { h, id } = await setup();
    const result = await h.service.act(id, as('w-alm-1'), { type: 'ACCEPT' });
    expect(result).toMatchObject({ ok: false, refusal: 'not_yours' });
    expect(await h.store.get(id)).toMatchObject({ status: 'requested', version: 1 });
    const refused = (await h.service.auditTrail(id)).filter((e) => e.what === 'refused');
    expect(refused).toEqual([{ what: 'refused', who: 'worker:w-alm-1', at: h.clock.now, detail: 'ACCEPT:not_yours' }]);
    expect(await h.deliver()).toEqual([]);
  });

  it('a worker of the same region who does not hold it is refused too; so is viewing it', async () => {
    const { h, id } = await setup();
    expect(await h.service.act(id, as('w-ast-2'), { type: 'DECLINE', reason: 'other' })).toMatchObject({ ok: false, refusal: 'not_yours' });
    expect(await h.service.view(id, as('w-ast-2'))).toEqual({ ok: false, refusal: 'not_yours' });
    expect((await h.service.auditTrail(id)).filter((e) => e.what === 'refused').map((e) => e.detail)).toEqual(['DECLINE:not_yours', 'view:not_yours']);
  });

  it('an unlinked Telegram user is refused and audited under a pseudonym, never their id', async () => {
    const { h, id } = await setup();
    expect(await h.service.act(id, { kind: 'user', userId: STRANGER }, { type: 'ACCEPT' })).toMatchObject({ ok: false, refusal: 'not_linked' });
    const refused = (await h.service.auditTrail(id)).find((e) => e.what === 'refused')!;
    expect(refused.who).toMatch(/^user:[0-9a-f]{12}$/);
    expect(JSON.stringify(refused)).not.toContain(String(STRANGER));
  });

  it("the territory's supervisor may act and reassign; another territory's supervisor may not", async () => {
    const { h, id } = await setup();
    expect(await h.service.act(id, as('s-alm'), { type: 'REASSIGN', workerId: 'w-alm-1' })).toMatchObject({ ok: false, refusal: 'not_yours' });
    expect(await h.service.act(id, as('s-ast'), { type: 'REASSIGN', workerId: 'w-ast-2' })).toMatchObject({ ok: true, referral: { workerId: 'w-ast-2' } });
    expect(await h.service.act(id, as('s-ast'), { type: 'ACCEPT' })).toMatchObject({ ok: true, referral: { status: 'accepted', workerId: 'w-ast-2' } });
  });

  it('only supervisors reassign, and only to a worker of the directory', async () => {
    const { h, id } = await setup();
    expect(await h.service.act(id, as('w-ast-1'), { type: 'REASSIGN', workerId: 'w-ast-2' })).toMatchObject({ ok: false, refusal: 'not_yours' });
    expect(await h.service.act(id, as('s-ast'), { type: 'REASSIGN', workerId: 'w-nobody' })).toMatchObject({ ok: false, refusal: 'unknown_worker' });
    expect(await h.service.act(id, as('s-ast'), { type: 'REASSIGN', workerId: 's-alm' })).toMatchObject({ ok: false, refusal: 'unknown_worker' });
  });

  it('a stale button (the action no longer allowed) is refused as not_now and audited', async () => {
    const { h, id } = await setup();
    expect(await h.service.act(id, as('w-ast-1'), { type: 'ACCEPT' })).toMatchObject({ ok: true });
    expect(await h.service.act(id, as('w-ast-1'), { type: 'ACCEPT' })).toMatchObject({ ok: false, refusal: 'not_now' });
    expect(await h.service.act(id, as('w-ast-1'), { type: 'COMPLETE', outcome: 'need_determined' })).toMatchObject({ ok: true });
    expect(await h.service.act(id, as('w-ast-1'), { type: 'CONTACTED' })).toMatchObject({ ok: false, refusal: 'not_now' });
    expect((await h.service.auditTrail(id)).filter((e) => e.what === 'refused').map((e) => e.detail)).toEqual(['ACCEPT:not_now', 'CONTACTED:not_now']);
  });

  it('an unlinked worker loses access at once; an unknown referral id is not_found', async () => {
    const { h, id } = await setup();
    expect(await h.service.unlink('w-ast-1')).toBe(true);
    expect(await h.service.act(id, as('w-ast-1'), { type: 'ACCEPT' })).toMatchObject({ ok: false, refusal: 'not_linked' });
    expect(await h.service.act('R-NOPE00', as('s-ast'), { type: 'ACCEPT' })).toEqual({ ok: false, refusal: 'not_found' });
  });

  it('families and operators cannot act on a referral through act()', async () => {
    const { h, id } = await setup();
    expect(await h.service.act(id, { kind: 'family' }, { type: 'ACCEPT' })).toMatchObject({ ok: false, refusal: 'not_yours' });
    expect(await h.service.act(id, { kind: 'operator', userId: 5 }, { type: 'ACCEPT' })).toMatchObject({ ok: false, refusal: 'not_yours' });
  });

  it('two holders pressing at once: one change wins, the other is refused or sees it done', async () => {
    const { h, id } = await setup();
    const [a, b] = await Promise.all([
      h.service.act(id, as('w-ast-1'), { type: 'ACCEPT' }),
      h.service.act(id, as('s-ast'), { type: 'DECLINE', reason: 'duplicate' }),
    ]);
    const oks = [a, b].filter((r) => r.ok);
    expect(oks.length).toBeGreaterThanOrEqual(1);
    const r = await h.store.get(id);
    expect(r!.version).toBe(1 + oks.length);
  });
});
