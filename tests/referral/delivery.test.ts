import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkingHours } from '../../src/handoff/hours.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import { ReferralService } from '../../src/referral/service.js';
import type { Referral, ReferralEvent } from '../../src/referral/types.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { NOTE, packet, testDirectory } from './fixtures.js';
import { makeHarness, RecordingNotifier, USER } from './harness.js';

const prefix = uniquePrefix('test:refdeliv');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

/** Telegram is down for the first `failures` sends. */
class FlakyNotifier extends RecordingNotifier {
  constructor(private failures: number) {
    super();
  }
  override async toWorker(userId: number, referral: Referral, notice: Parameters<RecordingNotifier['toWorker']>[2]): Promise<void> {
    if (this.failures-- > 0) throw new Error('Too Many Requests: retry after 5');
    return super.toWorker(userId, referral, notice);
  }
}

describe('referral notices through the delivery stream', () => {
  it('a send that fails is retried, and the worker gets the notice once', async () => {
    const h = await makeHarness('redis', redis, prefix);
    await h.service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } });
    const notifier = new FlakyNotifier(2);
    const delivery = h.service.delivery({ notifier, consumer: 'p1', minIdleMs: 0 });
    for (let i = 0; i < 4; i++) await delivery.poll();
    expect(notifier.take()).toEqual([`user:${USER['w-ast-1']}:new`]);
  });

  it('a notice for a worker who is not linked is dead-lettered at once and reported, without personal data', async () => {
    const h = await makeHarness('redis', redis, prefix);
    await h.service.unlink('w-ast-1');
    const { referral } = await h.service.create({ packet: packet(), familyChatId: 700_000_300, source: 'family', actor: { kind: 'family' } });
    const dead: { event: ReferralEvent; reason: string }[] = [];
    const notifier = new RecordingNotifier();
    const delivery = h.service.delivery({ notifier, consumer: 'p1', minIdleMs: 0, onDead: (event, reason) => void dead.push({ event, reason }) });
    await delivery.poll();
    expect(notifier.take()).toEqual(['chat:700000300:received']);
    expect(dead).toEqual([{ event: { id: `${referral.id}:1:w:new:w-ast-1`, kind: 'worker', notice: 'new', referralId: referral.id, to: 'w-ast-1' }, reason: 'not_linked' }]);
    expect(JSON.stringify(dead)).not.toContain('700000300');
  });

  it("only psychologists are handed a psychologist referral's note", async () => {
    const h = await makeHarness('redis', redis, prefix);
    const { referral } = await h.service.create({ packet: packet({ profile: 'psychologist' }), source: 'operator', actor: { kind: 'operator', userId: 1 } });
    await h.deliver();
    const handed = h.notifier.told;
    await h.service.act(referral.id, { kind: 'user', userId: USER['s-ast'] }, { type: 'REASSIGN', workerId: 'w-ast-1' });
    await h.deliver();
    expect(handed.find((t) => t.notice === 'reassigned_away')?.referral.packet?.note).toBe(NOTE);
    const toYou = handed.find((t) => t.notice === 'reassigned_to_you');
    expect(toYou?.to).toBe(`user:${USER['w-ast-1']}`);
    expect(toYou?.referral.packet?.note).toBeUndefined();
    expect(toYou?.referral.packet?.profile).toBe('psychologist');
  });

  it('start() polls until stop()', async () => {
    const h = await makeHarness('redis', redis, prefix);
    const notifier = new RecordingNotifier();
    const delivery = h.service.delivery({ notifier, consumer: 'loop', minIdleMs: 0 });
    await h.service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } });
    delivery.start(5);
    while (notifier.told.length === 0) await new Promise((r) => setTimeout(r, 5));
    await delivery.stop();
    expect(notifier.take()).toEqual([`user:${USER['w-ast-1']}:new`]);
  });

  it('a consumer killed mid-delivery: after a restart the worker gets the notification exactly once', async () => {
    const p = `${prefix}crash:`;
    const service = new ReferralService({ store: new RedisReferralStore(redis, { prefix: p }), directory: testDirectory(), config: { ackMinutes: 60, hours: WorkingHours.parse('always') } });
    await service.redeemInvite((await service.issueInvite('w-ast-1')).code, USER['w-ast-1']);
    const { referral } = await service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } });

    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./delivery-consumer.child.ts', import.meta.url)), inject('redisUrl'), p], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const taken = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      void exited.then((code) => reject(new Error(`consumer exited early (${String(code)})`)));
    });
    expect(taken).toBe(`taken ${referral.id}:new`);
    child.kill('SIGKILL');
    await exited;

    const notifier = new RecordingNotifier();
    const restarted = service.delivery({ notifier, consumer: 'proc-a-restarted', minIdleMs: 0 });
    await restarted.poll();
    await restarted.poll();
    expect(notifier.take()).toEqual([`user:${USER['w-ast-1']}:new`]);
  });
});
