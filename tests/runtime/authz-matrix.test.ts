/**
 * Who may do what in the operators' group, every role against every action:
 * holder, another operator, a revoked operator who still holds a case (the
 * release did not happen), a supervisor, an admin, a stranger in the group, and
 * a family pressing forged buttons in its private chat. Only the allowed cells
 * change anything; every refusal is logged with a hashed id, never the raw one.
 */
import { describe, expect, it } from 'vitest';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import type { CaseRecord } from '../../src/handoff/types.js';
import { ADMIN, GROUP, HandoffHarness, OPERATOR, OTHER, STRANGER, SUPERVISOR, answered, copies } from '../helpers/handoff-harness.js';

const REVOKED = 7003;
type Who = 'holder' | 'other operator' | 'revoked holder' | 'supervisor' | 'admin' | 'stranger' | 'family';
const WHO: Who[] = ['holder', 'other operator', 'revoked holder', 'supervisor', 'admin', 'stranger', 'family'];
const ID: Record<Exclude<Who, 'family'>, number> = { holder: OPERATOR, 'other operator': OTHER, 'revoked holder': REVOKED, supervisor: SUPERVISOR, admin: ADMIN, stranger: STRANGER };

type Action = 'take' | 'tr:line' | `tr:${number}` | 'cl:informed' | 'note' | 'card' | '/queue' | '/mine' | '/stats' | '/grant' | '/revoke' | '/params' | 'write';
const STAFF = new Set<Who>(['holder', 'other operator', 'supervisor', 'admin']);
/** The policy. A revoked holder has no role: it may do nothing, not even with its own case. */
const allowed: Record<Action, (who: Who) => boolean> = {
  take: (w) => STAFF.has(w), // a waiting case, by any staff; the holder pressing again is told it has it
  'tr:line': (w) => ['holder', 'supervisor', 'admin'].includes(w),
  [`tr:${OTHER}`]: (w) => ['holder', 'supervisor', 'admin'].includes(w),
  'cl:informed': (w) => ['holder', 'supervisor', 'admin'].includes(w),
  note: (w) => STAFF.has(w),
  card: (w) => STAFF.has(w),
  '/queue': (w) => STAFF.has(w),
  '/mine': (w) => STAFF.has(w),
  '/stats': (w) => STAFF.has(w),
  '/grant': (w) => w === 'admin',
  '/revoke': (w) => w === 'admin',
  '/params': (w) => w === 'admin',
  write: (w) => w === 'holder',
} as Record<Action, (who: Who) => boolean>;
const ACTIONS = Object.keys(allowed) as Action[];

/** What a case is, for "changed or not". */
const stateOf = async (hh: HandoffHarness, rec: CaseRecord) => {
  const r = await hh.get(rec.id);
  return { status: r.status, operatorId: r.operatorId, version: r.version, audit: (await hh.store.auditTrail(rec.id)).length };
};

let familyId = 9_000_000;

/** A harness with the revoked operator granted, then its role taken away behind its back (it keeps its cases). */
async function setup() {
  const hh = new HandoffHarness();
  await hh.operator(ADMIN).command(`/grant operator ${REVOKED}`);
  return hh;
}

/** A case for one cell: waiting for "take", else held by the row's holder (the revoked operator for its row). */
async function caseFor(hh: HandoffHarness, who: Who, action: Action): Promise<CaseRecord> {
  const rec = await hh.open(hh.family(familyId++));
  if (action === 'take' && who !== 'holder') {
    if (who === 'revoked holder') await hh.store.revokeRole('operator', REVOKED);
    return rec;
  }
  const holder = who === 'revoked holder' ? REVOKED : OPERATOR;
  await hh.operator(holder).press(rec, 'take');
  if (who === 'revoked holder') await hh.store.revokeRole('operator', REVOKED);
  return hh.get(rec.id);
}

async function act(hh: HandoffHarness, who: Who, action: Action, rec: CaseRecord): Promise<ApiCall[]> {
  if (who === 'family') {
    // A family can only forge a card button in its own private chat.
    const f = hh.family(familyId++);
    await f.say('/start');
    return f.pressData(`h|${rec.id}|${action.startsWith('/') || action === 'write' ? 'take' : action}`);
  }
  const op = hh.operator(ID[who]);
  if (action === 'write') return op.write(rec.topicId, 'Здравствуйте');
  if (action === '/grant') return op.command('/grant operator 7777');
  if (action === '/revoke') return op.command(`/revoke operator ${REVOKED}`);
  if (action.startsWith('/')) return op.command(action);
  return op.press(rec, action);
}

const notAllowed = 'Not allowed';
const refused = (calls: ApiCall[]) => (answered(calls) ?? '').startsWith(notAllowed) || calls.some((c) => c.method === 'sendMessage' && String(c.payload.text).startsWith(notAllowed));

describe.each(WHO)('authorization: %s', (who) => {
  it.each(ACTIONS)('%s', async (action) => {
    const hh = await setup();
    const rec = await caseFor(hh, who, action);
    const before = await stateOf(hh, rec);
    const rolesBefore = [await hh.store.granted('operator'), await hh.store.granted('supervisor')];
    const logMark = hh.logs.length;
    const calls = await act(hh, who, action, rec);
    const after = await stateOf(hh, rec);
    const rolesAfter = [await hh.store.granted('operator'), await hh.store.granted('supervisor')];
    const relayed = rec.chatId !== undefined && copies(calls, rec.chatId).length > 0;
    const changed = JSON.stringify(before) !== JSON.stringify(after) || JSON.stringify(rolesBefore) !== JSON.stringify(rolesAfter) || relayed;
    const ok = (allowed[action] as (w: Who) => boolean)(who);

    if (who === 'family') {
      // Not the operators' group: no role is asked for, the button is unknown there, nothing changes.
      expect(changed).toBe(false);
      return;
    }
    if (!ok) {
      expect(changed, 'a refused action changed something').toBe(false);
      // Strangers' words in a topic stay internal without a word; everything else is refused aloud and logged.
      if (!(action === 'write' && who !== 'revoked holder')) {
        expect(refused(calls), 'refused aloud').toBe(true);
        const lines = hh.logs.slice(logMark).filter((l) => l.msg === 'not allowed');
        expect(lines.length).toBeGreaterThan(0);
        for (const l of lines) {
          expect(l.user).toMatch(/^[0-9a-f]{12}$/);
          const { time: _time, ...logged } = l; // the timestamp's digits may contain an id by chance
          expect(JSON.stringify(logged)).not.toContain(String(ID[who]));
        }
      }
      return;
    }
    expect(refused(calls), 'an allowed action was refused').toBe(false);
    if (action === 'take' && who === 'holder') expect(after).toEqual(before);
    else if (['take', 'tr:line', `tr:${OTHER}`, 'cl:informed'].includes(action)) expect(after).not.toEqual(before);
    if (action === 'write') expect(copies(calls, rec.chatId!)).toHaveLength(1);
    if (action === '/grant') expect(rolesAfter[0]).toContain(7777);
    if (action === '/revoke') expect(rolesAfter[0]).not.toContain(REVOKED);
  });
});

it('a revoked holder is refused even for its own case, and the family hears nothing from it', async () => {
  const hh = await setup();
  const rec = await caseFor(hh, 'revoked holder', 'write');
  const calls = await hh.operator(REVOKED).write(rec.topicId, 'я ещё тут');
  expect(copies(calls, rec.chatId!)).toEqual([]);
  expect(calls.filter((c) => Number(c.payload.chat_id) !== GROUP)).toEqual([]);
});
