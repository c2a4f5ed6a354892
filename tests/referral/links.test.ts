import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkingHours } from '../../src/handoff/hours.js';
import { CODE_LENGTH, newInviteCode, parseInviteCode } from '../../src/referral/links.js';
import { MemoryReferralStore } from '../../src/referral/memory-store.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import { ReferralService, UnknownWorkerError } from '../../src/referral/service.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { packet, T0, testDirectory } from './fixtures.js';

const prefix = uniquePrefix('test:reflinks');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

const HOUR = 3_600_000;
let seq = 0;
function service(kind: 'redis' | 'memory', clock = { now: T0 }) {
  const store = kind === 'redis' ? new RedisReferralStore(redis, { prefix: `${prefix}${++seq}:` }) : new MemoryReferralStore({ now: () => clock.now });
  return new ReferralService({ store, directory: testDirectory(), config: { ackMinutes: 60, hours: WorkingHours.parse('always') }, now: () => clock.now });
}

describe('invite codes', () => {
  it('are random, at least 40 bits, and read the same however they are typed', () => {
    const codes = new Set(Array.from({ length: 2_000 }, newInviteCode));
    expect(codes.size).toBe(2_000);
    expect(CODE_LENGTH * Math.log2(31)).toBeGreaterThanOrEqual(40);
    const code = [...codes][0]!;
    expect(parseInviteCode(`w-${code}`)).toBe(code);
    expect(parseInviteCode(` ${code.toLowerCase()} `)).toBe(code);
    expect(parseInviteCode('w-short')).toBeUndefined();
    expect(parseInviteCode(`w-${code}0`)).toBeUndefined();
  });

  describe.each(['redis', 'memory'] as const)('%s', (kind) => {
    it('links once: the second redeem of a code is invalid', async () => {
      const s = service(kind);
      const invite = await s.issueInvite('w-ast-1');
      expect(invite.expiresAt).toBe(T0 + 72 * HOUR);
      expect(await s.redeemInvite(`w-${invite.code}`, 501)).toEqual({ ok: true, workerId: 'w-ast-1' });
      expect(await s.workerOf(501)).toBe('w-ast-1');
      expect(await s.redeemInvite(`w-${invite.code}`, 502)).toEqual({ ok: false, reason: 'invalid' });
      expect(await s.workerOf(502)).toBeUndefined();
      expect(await s.redeemInvite('w-ABCDEFGHJKM', 503)).toEqual({ ok: false, reason: 'invalid' });
    });

    it('relinking replaces the old account, which loses access; unlinking removes it', async () => {
      const s = service(kind);
      await s.redeemInvite((await s.issueInvite('w-ast-1')).code, 601);
      const { referral } = await s.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } });
      expect(await s.redeemInvite((await s.issueInvite('w-ast-1')).code, 602)).toEqual({ ok: true, workerId: 'w-ast-1', replaced: 601 });
      expect(await s.act(referral.id, { kind: 'user', userId: 601 }, { type: 'ACCEPT' })).toMatchObject({ ok: false, refusal: 'not_linked' });
      expect(await s.act(referral.id, { kind: 'user', userId: 602 }, { type: 'ACCEPT' })).toMatchObject({ ok: true });
      expect(await s.unlink('w-ast-1')).toBe(true);
      expect(await s.workerOf(602)).toBeUndefined();
      expect(await s.unlink('w-ast-1')).toBe(false);
    });

    it('is refused for a worker id the directory does not have, and for one removed from it since', async () => {
      const s = service(kind);
      await expect(s.issueInvite('w-nobody')).rejects.toBeInstanceOf(UnknownWorkerError);
      const invite = await s.issueInvite('w-ast-2');
      s.setDirectory({ ...testDirectory(), workers: testDirectory().workers.filter((w) => w.id !== 'w-ast-2') });
      expect(await s.redeemInvite(invite.code, 701)).toEqual({ ok: false, reason: 'unknown_worker' });
    });
  });

  it('expire: memory on its clock at 72 hours', async () => {
    const clock = { now: T0 };
    const s = service('memory', clock);
    const a = await s.issueInvite('w-ast-1');
    const b = await s.issueInvite('w-ast-2');
    clock.now = T0 + 72 * HOUR - 1;
    expect(await s.redeemInvite(a.code, 801)).toMatchObject({ ok: true });
    clock.now = T0 + 72 * HOUR;
    expect(await s.redeemInvite(b.code, 802)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('expire: redis keeps only a hash of the code, with a 72-hour TTL', async () => {
    const p = `${prefix}ttl:`;
    const s = new ReferralService({ store: new RedisReferralStore(redis, { prefix: p }), directory: testDirectory(), config: { ackMinutes: 60, hours: WorkingHours.parse('always') } });
    const invite = await s.issueInvite('w-ast-1');
    const keys = await redis.keys(`${p}*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(invite.code);
    const ttl = await redis.pTTL(keys[0]!);
    expect(ttl).toBeGreaterThan(71 * HOUR);
    expect(ttl).toBeLessThanOrEqual(72 * HOUR);
  });
});
