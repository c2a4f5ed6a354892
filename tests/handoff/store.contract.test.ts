import { describe, expect, it } from 'vitest';
import { MemoryHandoffStore } from '../../src/handoff/memory-store.js';
import { RedisHandoffStore } from '../../src/handoff/redis-store.js';
import type { CasePatch, HandoffStore } from '../../src/handoff/store.js';
import type { AuditEvent, CaseRecord, RelayEntry } from '../../src/handoff/types.js';
import { redisConnections, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('test:handoff');

const twins: { name: string; make: () => HandoffStore }[] = [
  { name: 'memory', make: () => new MemoryHandoffStore() },
  // A fresh prefix per store: each test starts with an empty line, timers and stats.
  // On a single Redis and on a three-master cluster (the store's keys share one hash tag).
  ...redisConnections(prefix).map(({ kind, redis }) => ({ name: `redis (${kind})`, make: () => new RedisHandoffStore(redis(), { prefix: `${prefix}${++storeSeq}:` }) })),
];
let storeSeq = 0;

const T0 = 1_790_000_000_000;
let seq = 0;
const nextChat = (): number => 500_000_000 + ++seq;
const nextId = (): string => `C${String(++seq).padStart(5, '0')}`;

/** A case with a chat id, as every case has until it closes. */
function waitingCase(overrides: Partial<CaseRecord> = {}): CaseRecord & { chatId: number } {
  return {
    id: nextId(),
    chatId: nextChat(),
    lang: 'ru',
    region: 'astana',
    urgent: false,
    status: 'waiting',
    version: 1,
    snapshot: { value: 'waiting', context: { asked: 1 } },
    summary: { rulesVersion: '2026-11', grounds: [{ id: 'low_income', status: 'indicated' }], benefits: [], urgent: false },
    consentAt: T0 - 1_000,
    createdAt: T0,
    enqueuedAt: T0,
    ...overrides,
  };
}

const ev = (type: string, at = T0, by = 'system', detail?: string): AuditEvent => (detail === undefined ? { type, by, at } : { type, by, at, detail });

const claimPatch = (operatorId: number): CasePatch => ({ status: 'claimed', snapshot: { value: 'claimed' }, fields: { operatorId, enqueuedAt: undefined } });
const closePatch = (at: number): CasePatch => ({ status: 'closed', snapshot: { value: 'closed' }, fields: { closedAt: at, outcome: 'informed' } });

const relay = (key: string, caseId: string, overrides: Partial<RelayEntry> = {}): RelayEntry => ({
  key,
  caseId,
  direction: 'to_operators',
  fromChatId: 500_000_001,
  messageId: 42,
  topicId: 7,
  ...overrides,
});

describe.each(twins)('handoff store contract: $name', ({ make }) => {
  describe('cases', () => {
    it('creates a case that get and openCaseOf return as written', async () => {
      const store = make();
      const rec = waitingCase({ region: undefined });
      expect(await store.create(rec, ev('created', T0, 'family'))).toBe(true);
      expect(await store.get(rec.id)).toEqual(rec);
      expect(await store.openCaseOf(rec.chatId)).toEqual(rec);
      expect(await store.get('NOPE1')).toBeUndefined();
      expect(await store.openCaseOf(nextChat())).toBeUndefined();
    });

    it('keeps one open case per family, and a new one after the first is closed', async () => {
      const store = make();
      const first = waitingCase();
      expect(await store.create(first, ev('created'))).toBe(true);
      const second = waitingCase({ chatId: first.chatId });
      expect(await store.create(second, ev('created'))).toBe(false);
      expect(await store.get(second.id)).toBeUndefined();
      expect(await store.waiting()).toHaveLength(1);

      expect(await store.update(first.id, 1, closePatch(T0 + 10), ev('closed', T0 + 10))).toBeDefined();
      expect(await store.openCaseOf(first.chatId)).toBeUndefined();
      expect(await store.create(second, ev('created'))).toBe(true);
      expect((await store.openCaseOf(first.chatId))?.id).toBe(second.id);
    });

    it('lets exactly one of concurrent opens of one family through', async () => {
      const store = make();
      const chatId = nextChat();
      const results = await Promise.all(Array.from({ length: 10 }, () => store.create(waitingCase({ chatId }), ev('created'))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.waiting()).toHaveLength(1);
    });

    it('a closed case keeps no chat id; the family is still recognised by its pseudonym', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      const closed = await store.update(rec.id, 1, closePatch(T0 + 1), ev('closed'));
      expect(closed).not.toHaveProperty('chatId');
      expect(await store.get(rec.id)).not.toHaveProperty('chatId');
      expect(await store.isFamilyOf(rec.id, rec.chatId)).toBe(true);
      expect(await store.isFamilyOf(rec.id, nextChat())).toBe(false);
      expect(await store.isFamilyOf('NOPE6', rec.chatId)).toBe(false);
    });

    it('round-trips text in any script and nested snapshots exactly', async () => {
      const store = make();
      const rec = waitingCase({
        region: 'Қарағанды облысы',
        snapshot: { value: { talking: 'waiting' }, context: { note: 'Сәлем 👋 "quoted" \\ back\nslash', list: [1, 2.5, null, true], empty: {} } },
      });
      await store.create(rec, ev('created', T0, 'family', 'тест ✓'));
      expect(await store.get(rec.id)).toEqual(rec);
      expect(await store.auditTrail(rec.id)).toEqual([ev('created', T0, 'family', 'тест ✓')]);
    });

    it('refuses a second case with an id already taken', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      expect(await store.create({ ...rec, chatId: nextChat() }, ev('created'))).toBe(false);
      expect((await store.get(rec.id))?.chatId).toBe(rec.chatId);
    });

    it('puts a waiting case without a place in line at the time it was created', async () => {
      const store = make();
      const rec = waitingCase({ enqueuedAt: undefined, createdAt: T0 + 5 });
      await store.create(rec, ev('created', T0 + 5));
      expect((await store.get(rec.id))?.enqueuedAt).toBe(T0 + 5);
      expect(await store.placeInLine(rec.id)).toBe(1);
    });
  });

  describe('update (compare-and-set on version)', () => {
    it('applies at the right version: new status, snapshot, fields, version + 1', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      const patch: CasePatch = { status: 'out_of_hours', snapshot: { value: 'ooh' }, fields: { callbackPhone: '+77010000000', region: undefined } };
      const updated = await store.update(rec.id, 1, patch, ev('out_of_hours', T0 + 1));
      const { region: _dropped, ...rest } = rec;
      const expected: CaseRecord = { ...rest, status: 'out_of_hours', snapshot: { value: 'ooh' }, callbackPhone: '+77010000000', version: 2 };
      expect(updated).toEqual(expected);
      expect(await store.get(rec.id)).toEqual(expected);
      // Not waiting any more: out of the line.
      expect(await store.waiting()).toEqual([]);
      expect(await store.placeInLine(rec.id)).toBeUndefined();
    });

    it('refuses a stale version and changes nothing', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      await store.update(rec.id, 1, { status: 'waiting', snapshot: { v: 2 } }, ev('touched', T0 + 1));
      const before = await store.get(rec.id);
      const trailBefore = await store.auditTrail(rec.id);

      expect(await store.update(rec.id, 1, closePatch(T0 + 2), ev('closed', T0 + 2))).toBeUndefined();
      expect(await store.get(rec.id)).toEqual(before);
      expect(await store.auditTrail(rec.id)).toEqual(trailBefore);
      expect(await store.openCaseOf(rec.chatId)).toEqual(before);
      expect(await store.placeInLine(rec.id)).toBe(1);
      expect(await store.update('NOPE2', 1, closePatch(T0), ev('closed'))).toBeUndefined();
    });

    it('keeps enqueuedAt while the case stays in line', async () => {
      const store = make();
      const rec = waitingCase({ enqueuedAt: T0 - 500 });
      await store.create(rec, ev('created'));
      const updated = await store.update(rec.id, 1, { status: 'waiting', snapshot: null }, ev('reminded', T0 + 60_000));
      expect(updated?.enqueuedAt).toBe(T0 - 500);
      expect(updated?.snapshot).toBeNull();
    });
  });

  describe('the waiting line', () => {
    it('orders urgent first, then oldest, and tells each its place', async () => {
      const store = make();
      const oldNormal = waitingCase({ enqueuedAt: T0 });
      const newNormal = waitingCase({ enqueuedAt: T0 + 2_000 });
      const newUrgent = waitingCase({ urgent: true, enqueuedAt: T0 + 3_000 });
      const oldUrgent = waitingCase({ urgent: true, enqueuedAt: T0 + 1_000 });
      for (const rec of [newNormal, newUrgent, oldNormal, oldUrgent]) await store.create(rec, ev('created'));

      expect((await store.waiting()).map((r) => r.id)).toEqual([oldUrgent.id, newUrgent.id, oldNormal.id, newNormal.id]);
      expect((await store.waiting(2)).map((r) => r.id)).toEqual([oldUrgent.id, newUrgent.id]);
      expect(await store.waiting(0)).toEqual([]);
      expect(await store.placeInLine(oldUrgent.id)).toBe(1);
      expect(await store.placeInLine(newNormal.id)).toBe(4);

      await store.claim(newUrgent.id, 11, 1, claimPatch(11), ev('claimed', T0 + 4_000, '11'));
      expect(await store.placeInLine(oldNormal.id)).toBe(2);
      expect(await store.placeInLine(newUrgent.id)).toBeUndefined();
    });

    it('moves a case that becomes urgent ahead of the normal band', async () => {
      const store = make();
      const first = waitingCase({ enqueuedAt: T0 });
      const second = waitingCase({ enqueuedAt: T0 + 1 });
      await store.create(first, ev('created'));
      await store.create(second, ev('created'));
      await store.update(second.id, 1, { status: 'waiting', snapshot: {}, fields: { urgent: true } }, ev('urgent', T0 + 2));
      expect((await store.waiting()).map((r) => r.id)).toEqual([second.id, first.id]);
    });

    it('does not enqueue a case created in another status', async () => {
      const store = make();
      const rec = waitingCase({ status: 'out_of_hours', enqueuedAt: undefined });
      await store.create(rec, ev('created'));
      expect(await store.waiting()).toEqual([]);
      expect(await store.openCaseOf(rec.chatId)).toEqual(rec);
    });
  });

  describe('claim', () => {
    it('has exactly one winner among concurrent claims; losers learn the holder', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      const operators = Array.from({ length: 20 }, (_, i) => 100 + i);
      const results = await Promise.all(operators.map((op) => store.claim(rec.id, op, 1, claimPatch(op), ev('claimed', T0 + 1, String(op)))));

      const winners = results.flatMap((r, i) => (r.won ? [operators[i]!] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      expect(results.find((r) => r.won)).toEqual({ won: true, status: 'claimed', holder: winner });
      for (const lost of results.filter((r) => !r.won)) expect(lost).toEqual({ won: false, status: 'claimed', holder: winner });

      const after = await store.get(rec.id);
      expect(after).toMatchObject({ status: 'claimed', operatorId: winner, version: 2 });
      expect(after?.enqueuedAt).toBeUndefined();
      expect(await store.waiting()).toEqual([]);
      expect((await store.auditTrail(rec.id)).filter((e) => e.type === 'claimed')).toEqual([ev('claimed', T0 + 1, String(winner))]);
    });

    it('names the claiming operator even if the patch did not', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      expect(await store.claim(rec.id, 12, 1, { status: 'claimed', snapshot: {} }, ev('claimed'))).toEqual({ won: true, status: 'claimed', holder: 12 });
      expect((await store.get(rec.id))?.operatorId).toBe(12);
    });

    it('refuses a stale version, a case not waiting, and a case that does not exist', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      expect(await store.claim(rec.id, 12, 7, claimPatch(12), ev('claimed'))).toEqual({ won: false, status: 'waiting' });
      expect((await store.get(rec.id))?.status).toBe('waiting');

      const away = waitingCase({ status: 'out_of_hours' });
      await store.create(away, ev('created'));
      expect(await store.claim(away.id, 12, 1, claimPatch(12), ev('claimed'))).toEqual({ won: false, status: 'out_of_hours' });
      expect(await store.claim('NOPE3', 12, 1, claimPatch(12), ev('claimed'))).toEqual({ won: false, status: 'closed' });
    });

    it('casesOf follows claims, hand-overs and closes', async () => {
      const store = make();
      const a = waitingCase({ createdAt: T0 });
      const b = waitingCase({ createdAt: T0 + 1 });
      await store.create(a, ev('created'));
      await store.create(b, ev('created'));
      await store.claim(b.id, 21, 1, claimPatch(21), ev('claimed'));
      await store.claim(a.id, 21, 1, claimPatch(21), ev('claimed'));
      expect((await store.casesOf(21)).map((r) => r.id)).toEqual([a.id, b.id]);

      // Handed to another operator.
      await store.update(a.id, 2, { status: 'claimed', snapshot: {}, fields: { operatorId: 22 } }, ev('handed_over', T0 + 5, '21'));
      expect((await store.casesOf(21)).map((r) => r.id)).toEqual([b.id]);
      expect((await store.casesOf(22)).map((r) => r.id)).toEqual([a.id]);

      // Back to the line: nobody holds it.
      await store.update(a.id, 3, { status: 'waiting', snapshot: {}, fields: { operatorId: undefined } }, ev('released', T0 + 6, '22'));
      expect(await store.casesOf(22)).toEqual([]);
      expect(await store.placeInLine(a.id)).toBe(1);

      await store.update(b.id, 2, closePatch(T0 + 7), ev('closed', T0 + 7, '21'));
      expect(await store.casesOf(21)).toEqual([]);
      expect(await store.openCaseOf(b.chatId)).toBeUndefined();
    });
  });

  describe('fields and topics', () => {
    it('setFields sets and deletes fields without a version change, and indexes the topic', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      await store.claim(rec.id, 31, 1, claimPatch(31), ev('claimed'));
      await store.setFields(rec.id, { topicId: 9001, cardMessageId: 55, region: undefined });

      const after = await store.get(rec.id);
      expect(after).toMatchObject({ topicId: 9001, cardMessageId: 55, version: 2 });
      expect(after).not.toHaveProperty('region');
      expect((await store.caseOfTopic(9001))?.id).toBe(rec.id);
      expect(await store.caseOfTopic(9002)).toBeUndefined();

      // A recreated topic replaces the old one.
      await store.setFields(rec.id, { topicId: 9002 });
      expect(await store.caseOfTopic(9001)).toBeUndefined();
      expect((await store.caseOfTopic(9002))?.id).toBe(rec.id);
      // The version did not move: the machine's next write at version 2 still applies.
      expect(await store.update(rec.id, 2, closePatch(T0 + 9), ev('closed'))).toBeDefined();
    });

    it('setFields on a missing case creates nothing', async () => {
      const store = make();
      await store.setFields('NOPE4', { topicId: 9100 });
      expect(await store.get('NOPE4')).toBeUndefined();
      expect(await store.caseOfTopic(9100)).toBeUndefined();
    });
  });

  describe('audit trail', () => {
    it('keeps events in the order they happened, from every path that writes them', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created', T0, 'family'));
      await store.audit(rec.id, ev('seen', T0 + 1, '41', 'card'));
      await store.claim(rec.id, 41, 1, claimPatch(41), ev('claimed', T0 + 2, '41'));
      await store.audit(rec.id, ev('wrote', T0 + 3, '41'));
      await store.update(rec.id, 2, closePatch(T0 + 4), ev('closed', T0 + 4, '41', 'informed'));
      expect(await store.auditTrail(rec.id)).toEqual([
        ev('created', T0, 'family'),
        ev('seen', T0 + 1, '41', 'card'),
        ev('claimed', T0 + 2, '41'),
        ev('wrote', T0 + 3, '41'),
        ev('closed', T0 + 4, '41', 'informed'),
      ]);
      expect(await store.auditTrail('NOPE5')).toEqual([]);
    });
  });

  describe('copies in the topic', () => {
    it('keeps the group message ids of a case in order; take returns them once', async () => {
      const store = make();
      await store.keepCopy('Q1', 501);
      await store.keepCopy('Q1', 502);
      await store.keepCopy('Q2', 900);
      expect(await store.takeCopies('Q1')).toEqual([501, 502]);
      expect(await store.takeCopies('Q1')).toEqual([]);
      expect(await store.takeCopies('Q2')).toEqual([900]);
    });
  });

  describe('urgent announcements', () => {
    it('at most one per family in the window, on the caller\'s clock', async () => {
      const store = make();
      const [a, b] = [nextChat(), nextChat()];
      const window = 10 * 60_000;
      expect(await store.claimAnnouncement(a, T0, window)).toBe(true);
      expect(await store.claimAnnouncement(a, T0 + 1_000, window)).toBe(false);
      expect(await store.claimAnnouncement(a, T0 + window - 1, window)).toBe(false);
      expect(await store.claimAnnouncement(b, T0 + 1_000, window)).toBe(true);
      expect(await store.claimAnnouncement(a, T0 + window, window)).toBe(true);
    });
  });

  describe('pending messages', () => {
    it('keeps messages in order; take returns them once and empties the list', async () => {
      const store = make();
      const entries = [relay('up:1', 'P1'), relay('up:2', 'P1', { messageId: 43 }), relay('up:3', 'P1', { messageId: 44, topicId: undefined })];
      for (const entry of entries) await store.keepPending('P1', entry);
      const { topicId: _none, ...third } = entries[2]!;
      expect(await store.takePending('P1')).toEqual([entries[0], entries[1], third]);
      expect(await store.takePending('P1')).toEqual([]);
    });
  });

  describe('relays', () => {
    it('records once per key, lists unsent in recording order, forgets acknowledged', async () => {
      const store = make();
      const a = relay('up:100', 'R1');
      const b = relay('down:101', 'R1', { direction: 'to_family', fromChatId: -1001234567890, messageId: 9 });
      expect(await store.recordRelay(a)).toBe(true);
      expect(await store.recordRelay(b)).toBe(true);
      expect(await store.recordRelay({ ...a, messageId: 999 })).toBe(false);
      expect(await store.unsentRelays()).toEqual([a, b]);
      expect(await store.unsentRelays(1)).toEqual([a]);
      expect(await store.unsentRelays(0)).toEqual([]);

      await store.ackRelay(a.key);
      expect(await store.unsentRelays()).toEqual([b]);
      // Delivered and acknowledged, then the same update again: still a duplicate.
      expect(await store.recordRelay(a)).toBe(false);
      expect(await store.unsentRelays()).toEqual([b]);
      await store.ackRelay(b.key);
      await store.ackRelay(b.key);
      expect(await store.unsentRelays()).toEqual([]);
    });
  });

  describe('timers', () => {
    it('returns a due timer once, a future one not, a replaced one at its new deadline, a cancelled one never', async () => {
      const store = make();
      await store.schedule('T1', 'first_response', T0 + 100);
      await store.schedule('T2', 'first_response', T0 + 50);
      await store.schedule('T2', 'next_response', T0 + 10_000);
      await store.schedule('T3', 'first_response', T0 + 10);
      await store.schedule('T3', 'first_response', T0 + 20_000); // replaces
      await store.schedule('T4', 'next_response', T0 + 1);
      await store.cancelTimer('T4', 'next_response');

      expect(await store.takeDue(T0 + 100, 0)).toEqual([]);
      expect(await store.takeDue(T0 + 100)).toEqual([
        { caseId: 'T2', kind: 'first_response', deadline: T0 + 50 },
        { caseId: 'T1', kind: 'first_response', deadline: T0 + 100 },
      ]);
      expect(await store.takeDue(T0 + 100)).toEqual([]);
      expect(await store.takeDue(T0 + 30_000, 1)).toEqual([{ caseId: 'T2', kind: 'next_response', deadline: T0 + 10_000 }]);
      expect(await store.takeDue(T0 + 30_000)).toEqual([{ caseId: 'T3', kind: 'first_response', deadline: T0 + 20_000 }]);
    });

    it('hands each due timer to exactly one of concurrent takers', async () => {
      const store = make();
      for (let i = 0; i < 50; i++) await store.schedule(`U${i}`, 'first_response', T0 + i);
      const takes = await Promise.all(Array.from({ length: 10 }, () => store.takeDue(T0 + 1_000, 7)));
      const ids = takes.flat().map((t) => t.caseId);
      expect(ids).toHaveLength(50);
      expect(new Set(ids).size).toBe(50);
    });

    it('drops the timers of a case when it closes', async () => {
      const store = make();
      const rec = waitingCase();
      await store.create(rec, ev('created'));
      await store.schedule(rec.id, 'first_response', T0 + 1);
      await store.schedule(rec.id, 'next_response', T0 + 1);
      await store.schedule(rec.id, 'opening', T0 + 1);
      await store.update(rec.id, 1, closePatch(T0 + 2), ev('closed'));
      expect(await store.takeDue(T0 + 1_000)).toEqual([]);
    });
  });

  describe('roles', () => {
    it('grants and revokes per role', async () => {
      const store = make();
      await store.grantRole('operator', 7);
      await store.grantRole('operator', 3);
      await store.grantRole('operator', 3);
      await store.grantRole('supervisor', 9);
      expect(await store.granted('operator')).toEqual([3, 7]);
      expect(await store.granted('supervisor')).toEqual([9]);
      await store.revokeRole('operator', 7);
      await store.revokeRole('supervisor', 1234);
      expect(await store.granted('operator')).toEqual([3]);
    });
  });

  describe('stats', () => {
    it('counts created, claimed and closed since a time, the line now, and first-response waits', async () => {
      const store = make();
      const old = waitingCase({ createdAt: T0 - 86_400_000, enqueuedAt: T0 - 86_400_000 });
      const a = waitingCase({ createdAt: T0 + 1_000, enqueuedAt: T0 + 1_000 });
      const b = waitingCase({ createdAt: T0 + 2_000, enqueuedAt: T0 + 2_000 });
      const c = waitingCase({ createdAt: T0 + 3_000, enqueuedAt: T0 + 3_000 });
      for (const rec of [old, a, b, c]) await store.create(rec, ev('created', rec.createdAt));

      await store.claim(a.id, 51, 1, claimPatch(51), ev('claimed', T0 + 10_000, '51'));
      await store.setFields(a.id, { firstResponseAt: T0 + 61_000 });
      await store.claim(b.id, 52, 1, claimPatch(52), ev('claimed', T0 + 20_000, '52'));
      await store.update(b.id, 2, { ...closePatch(T0 + 30_000), fields: { closedAt: T0 + 30_000, firstResponseAt: T0 + 22_000 } }, ev('closed', T0 + 30_000));
      // A later first response does not count twice.
      await store.setFields(a.id, { firstResponseAt: T0 + 99_000 });

      expect(await store.stats(T0)).toEqual({ created: 3, claimed: 2, closed: 1, waitingNow: 2, firstResponseMs: [20_000, 60_000] });
      expect(await store.stats(T0 + 15_000)).toEqual({ created: 0, claimed: 1, closed: 1, waitingNow: 2, firstResponseMs: [20_000, 60_000] });
      expect(await store.stats(T0 - 2 * 86_400_000)).toMatchObject({ created: 4 });
    });
  });

  describe('forgetFamily', () => {
    it("removes the family's chat id, phone, summary, pending messages and unsent relays; the closed case stays", async () => {
      const store = make();
      const first = waitingCase({ callbackPhone: '+77019998877' });
      await store.create(first, ev('created'));
      await store.update(first.id, 1, closePatch(T0 + 1), ev('closed'));
      const second = waitingCase({ chatId: first.chatId, callbackPhone: '+77019998877' });
      await store.create(second, ev('created'));
      await store.keepPending(second.id, relay('up:500', second.id, { fromChatId: first.chatId }));
      await store.recordRelay(relay('up:501', second.id, { fromChatId: first.chatId }));
      const other = waitingCase();
      await store.create(other, ev('created'));
      await store.keepPending(other.id, relay('up:502', other.id, { fromChatId: other.chatId }));
      await store.recordRelay(relay('up:503', other.id, { fromChatId: other.chatId }));
      await store.update(second.id, 1, closePatch(T0 + 2), ev('closed', T0 + 2, 'family', 'forgotten'));

      await store.audit(first.id, ev('note', T0 + 3, '41', 'тел 87015550199'));
      await store.audit(first.id, ev('feedback', T0 + 4, 'family', 'helped'));

      expect((await store.forgetFamily(first.chatId)).sort()).toEqual([first.id, second.id].sort());

      for (const id of [first.id, second.id]) {
        const rec = await store.get(id);
        expect(rec).toMatchObject({ id, status: 'closed', withdrawn: true });
        for (const field of ['chatId', 'callbackPhone', 'summary', 'consentAt', 'region']) expect(rec).not.toHaveProperty(field);
        expect(await store.isFamilyOf(id, first.chatId)).toBe(false);
      }
      // Note texts go; what happened, when and by whom stays.
      expect(await store.auditTrail(first.id)).toEqual([ev('created'), ev('closed'), ev('note', T0 + 3, '41'), ev('feedback', T0 + 4, 'family', 'helped')]);
      expect(await store.takePending(second.id)).toEqual([]);
      expect(await store.openCaseOf(first.chatId)).toBeUndefined();
      expect((await store.unsentRelays()).map((r) => r.key)).toEqual(['up:503']);
      // Other families are untouched.
      expect(await store.get(other.id)).toEqual(other);
      expect(await store.takePending(other.id)).toHaveLength(1);
      // The family can come back as a new case.
      expect(await store.create(waitingCase({ chatId: first.chatId }), ev('created'))).toBe(true);
    });

    it('an open case keeps only what the conversation needs, and is erased when it closes', async () => {
      const store = make();
      const earlier = waitingCase();
      await store.create(earlier, ev('created'));
      await store.update(earlier.id, 1, closePatch(T0 + 1), ev('closed'));
      const live = waitingCase({ chatId: earlier.chatId, callbackPhone: '+77019998877' });
      await store.create(live, ev('created'));
      await store.claim(live.id, 61, 1, claimPatch(61), ev('claimed', T0 + 2, '61'));
      await store.recordRelay(relay('up:600', live.id, { fromChatId: live.chatId }));

      expect((await store.forgetFamily(live.chatId)).sort()).toEqual([earlier.id, live.id].sort());
      const talking = await store.openCaseOf(live.chatId);
      expect(talking).toMatchObject({ id: live.id, status: 'claimed', chatId: live.chatId, operatorId: 61, withdrawn: true });
      for (const field of ['callbackPhone', 'summary', 'consentAt', 'region']) expect(talking).not.toHaveProperty(field);
      // A message on its way to the operator in the conversation still goes.
      expect((await store.unsentRelays()).map((r) => r.key)).toEqual(['up:600']);

      await store.audit(live.id, ev('note', T0 + 3, '61', 'адрес: ул. Абая 1'));
      const closed = await store.update(live.id, 2, closePatch(T0 + 4), ev('closed', T0 + 4, '61', 'informed'));
      expect(closed).toMatchObject({ status: 'closed', withdrawn: true, outcome: 'informed' });
      expect(closed).not.toHaveProperty('chatId');
      expect(await store.isFamilyOf(live.id, live.chatId)).toBe(false);
      expect(await store.openCaseOf(live.chatId)).toBeUndefined();
      expect((await store.auditTrail(live.id)).find((e) => e.type === 'note')).toEqual(ev('note', T0 + 3, '61'));
      // Nothing left to find the family by: forgetting again touches nothing.
      expect(await store.forgetFamily(live.chatId)).toEqual([]);
    });
  });
});
