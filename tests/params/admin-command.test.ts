/**
 * /params in the operators' group, driven through bot.handleUpdate with every Bot API call
 * recorded: who may use it (admins only, for showing, setting and confirming), what bad input
 * is told (and that nothing is stored), the confirm step that shows exactly what changes, the
 * audit trail, and a family's result using the value — in the same process (memory stores)
 * and in another process on one real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import { createTranslator } from '../../src/i18n/i18n.js';
import type { Redis } from '../../src/store/redis.js';
import { ADMIN, answered, GROUP, GROUP_CHAT, HandoffHarness, LOG_SALT, OPERATOR, sentTo, STRANGER, SUPERVISOR } from '../helpers/handoff-harness.js';
import { answerUntil, startScreening } from '../helpers/family-dialog.js';
import type { FamilyDriver } from '../helpers/bot-harness.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { chatRef } from '../../src/log.js';

const NOT_ALLOWED = 'Not allowed: only operators on duty can do this.';
const en = createTranslator().bind('en');
const SET_ASTANA = '/params poverty_line_kzt astana 2026-01-01 45000 "Akimat decision No. 7 of 05.01.2026"';

/** The bot's replies in the operators' group. */
const replies = (calls: ApiCall[]) => sentTo(calls, GROUP);
/** The confirm and cancel buttons of the bot's reply, with the message they are on. */
function buttonsOf(calls: ApiCall[]): { text: string; data: string; messageId: number }[] {
  const call = calls.find((c) => c.method === 'sendMessage' && Number(c.payload.chat_id) === GROUP && c.payload.reply_markup);
  if (!call) return [];
  const rows = (call.payload.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard;
  return rows.flat().map((b) => ({ text: b.text, data: b.callback_data, messageId: (call.result as { message_id: number }).message_id }));
}
/** A press of a button in the operators' group by a user. */
function press(hh: HandoffHarness, userId: number, button: { data: string; messageId: number }): Promise<ApiCall[]> {
  return hh.deliver({
    callback_query: { id: String(Math.random()), from: { id: userId, is_bot: false, first_name: 'Staff' }, chat_instance: 'ops', data: button.data, message: { message_id: button.messageId, date: 0, chat: GROUP_CHAT, text: '' } },
  } as never);
}
const kzt = (n: number) => n.toLocaleString('ru-RU');
const edited = (calls: ApiCall[]) => calls.filter((c) => c.method === 'editMessageText').map((c) => String(c.payload.text));

/** A family of two in Astana, no one able to work, 60,000 ₸ a month, at their result. */
async function familyAtResult(f: FamilyDriver): Promise<string> {
  await startScreening(f);
  const answers = { in_danger_now: 'no', region: 'astana', household_members: 2, children: 0, able_bodied_members: 0, topics: ['money'] };
  await answerUntil(f, answers, (fact) => fact === 'monthly_income_kzt');
  await f.say('60000');
  await answerUntil(f, answers);
  await f.press('ok');
  return f.lastText;
}

describe('/params: who may use it', () => {
  it.each([
    ['supervisor', SUPERVISOR],
    ['operator', OPERATOR],
    ['someone without a role', STRANGER],
  ])('a %s is refused, for showing and for setting, and the attempt is logged', async (_, userId) => {
    const hh = new HandoffHarness();
    expect(replies(await hh.operator(userId).command('/params'))).toEqual([NOT_ALLOWED]);
    expect(replies(await hh.operator(userId).command(SET_ASTANA))).toEqual([NOT_ALLOWED]);
    expect(await hh.h.deps.params!.store.version()).toBe(0);
    expect(hh.logs.filter((l) => l.msg === 'not allowed' && l.what === '/params' && l.user === chatRef(userId, LOG_SALT))).toHaveLength(2);
  });

  it('only admins may press confirm: a supervisor pressing an admin’s button is refused, and the change still waits', async () => {
    const hh = new HandoffHarness();
    const [confirm] = buttonsOf(await hh.operator(ADMIN).command(SET_ASTANA));
    expect(answered(await press(hh, SUPERVISOR, confirm!))).toBe(NOT_ALLOWED);
    expect(await hh.h.deps.params!.store.version()).toBe(0);
    expect(answered(await press(hh, ADMIN, confirm!))).toBe(en('params:savedShort'));
  });

  it('another admin cannot confirm a change they did not ask for', async () => {
    const hh = new HandoffHarness({ adminIds: [ADMIN, ADMIN + 1] });
    const [confirm] = buttonsOf(await hh.operator(ADMIN).command(SET_ASTANA));
    expect(answered(await press(hh, ADMIN + 1, confirm!))).toBe(en('params:notYours'));
    expect(await hh.h.deps.params!.store.version()).toBe(0);
  });

  it('outside the operators’ group, /params is not a staff command', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(611);
    await f.say('/params poverty_line_kzt astana 2026-01-01 45000 "x y z"');
    expect(await hh.h.deps.params!.store.version()).toBe(0);
  });
});

describe('/params: bad input gets a clear error with an example, and nothing is stored', () => {
  it.each([
    ['an unknown region', '/params poverty_line_kzt nursultan 2026-01-01 45000 "ref"', en('params:errors.unknownRegion', { region: 'nursultan', known: 'astana' }).split('astana')[0]!],
    ['a date that does not exist', '/params poverty_line_kzt astana 2026-02-30 45000 "ref"', en('params:errors.badDate', { date: '2026-02-30' })],
    ['a date in another format', '/params poverty_line_kzt astana 01.01.2026 45000 "ref"', en('params:errors.badDate', { date: '01.01.2026' })],
    ['a negative value', '/params poverty_line_kzt astana 2026-01-01 -45000 "ref"', en('params:errors.badValue', { value: '-45000', max: 1_000_000 })],
    ['an unknown parameter', '/params poverty_line astana 2026-01-01 45000 "ref"', en('params:errors.unknownParam', { param: 'poverty_line', known: 'poverty_line_kzt' })],
    ['no reference', '/params poverty_line_kzt astana 2026-01-01 45000', en('params:errors.noReference')],
    ['too little', '/params poverty_line_kzt astana', en('params:errors.usage')],
  ])('%s', async (_, command, error) => {
    const hh = new HandoffHarness();
    const calls = await hh.operator(ADMIN).command(command);
    const [reply] = replies(calls);
    expect(reply).toContain(error);
    expect(reply).toContain(en('params:errors.nothingStored'));
    expect(reply).toContain(en('params:example'));
    expect(buttonsOf(calls)).toEqual([]);
    expect(await hh.h.deps.params!.store.version()).toBe(0);
    expect(await hh.h.deps.params!.store.values()).toEqual([]);
  });
});

describe('/params: show, propose, confirm', () => {
  it('shows every region with what is in force, its reference and verified flag', async () => {
    const hh = new HandoffHarness();
    const [list] = replies(await hh.operator(ADMIN).command('/params'));
    const regions = hh.h.deps.catalogue.facts.find((f) => f.id === 'region')!.values!;
    expect(list).toContain(en('params:list.title', { param: 'poverty_line_kzt', date: '2026-11-16' }));
    for (const id of regions) expect(list).toContain(en('params:list.none', { region: en(`facts:region.values.${id}`), id }));
    expect(list).toContain('/params poverty_line_kzt astana 2026-01-01 45000');
  });

  it('with every region set and long references, each message stays within Telegram’s 4,096 characters', async () => {
    const admin = 123_456_789_012;
    const hh = new HandoffHarness({ adminIds: [admin] });
    const regions = hh.h.deps.catalogue.facts.find((f) => f.id === 'region')!.values!;
    for (const region of regions) {
      await hh.h.deps.params!.store.set({ param: 'poverty_line_kzt', region, from: '2026-01-01', value: 999_999, reference: 'Ж'.repeat(300), verified: false }, admin, 1);
    }
    const texts = replies(await hh.operator(admin).command('/params'));
    expect(texts.every((x) => x.length <= 4096)).toBe(true);
    for (const region of regions) expect(texts.join('\n')).toContain(`(${region}): ${kzt(999_999)} ₸`);
  });

  it('a dated value: the confirm message shows exactly what changes; confirmed, it is stored with who set it and used at once', async () => {
    const hh = new HandoffHarness();
    const admin = hh.operator(ADMIN);
    const proposal = await admin.command(SET_ASTANA);
    const [text] = replies(proposal);
    expect(text).toContain(en('params:confirm.what', { param: 'poverty_line_kzt', region: en('facts:region.values.astana'), id: 'astana', from: '2026-01-01', value: kzt(45000), verified: en('params:list.unverified') }));
    expect(text).toContain(en('params:confirm.reference', { reference: 'Akimat decision No. 7 of 05.01.2026' }));
    expect(text).toContain(en('params:confirm.beforeNone', { from: '2026-01-01' }));
    expect(text).toContain(en('params:confirm.unverifiedHint'));
    const buttons = buttonsOf(proposal);
    expect(buttons.map((b) => b.text)).toEqual([en('params:buttons.confirm'), en('params:buttons.cancel')]);
    // Proposed is not yet in force.
    expect(await hh.h.deps.params!.store.version()).toBe(0);

    const confirmed = await press(hh, ADMIN, buttons[0]!);
    expect(answered(confirmed)).toBe(en('params:savedShort'));
    expect(edited(confirmed)[0]).toContain(en('params:saved', { id: ADMIN, param: 'poverty_line_kzt', region: en('facts:region.values.astana'), from: '2026-01-01', value: kzt(45000), verified: en('params:list.unverified') }));
    expect(await hh.h.deps.params!.store.auditTrail()).toEqual([
      { param: 'poverty_line_kzt', region: 'astana', from: '2026-01-01', value: 45000, reference: 'Akimat decision No. 7 of 05.01.2026', verified: false, setBy: ADMIN, setAt: hh.clock.at },
    ]);
    expect(hh.logs.some((l) => l.msg === 'parameter set' && l.admin === chatRef(ADMIN, LOG_SALT) && !JSON.stringify(l).includes(String(ADMIN)))).toBe(true);

    // A second press of the same button does nothing more.
    expect(answered(await press(hh, ADMIN, buttons[0]!))).toBe(en('params:expired'));
    expect(await hh.h.deps.params!.store.version()).toBe(1);

    // The list now shows it, who set it, and that it is not verified.
    const [list] = replies(await admin.command('/params'));
    expect(list).toContain(`${kzt(45000)} ₸ from 2026-01-01 · ${en('params:list.unverified')} · ${en('params:list.setBy', { id: ADMIN })} · “Akimat decision No. 7 of 05.01.2026”`);

    // A correction for the same date, verified: the confirm names the value it replaces.
    const correction = await admin.command('/params poverty_line_kzt astana 2026-01-01 46000 "Akimat decision No. 7 of 05.01.2026" verified');
    expect(replies(correction)[0]).toContain(en('params:confirm.replaces', { value: kzt(45000), source: en('params:list.setBy', { id: ADMIN }) }));
    expect(replies(correction)[0]).not.toContain(en('params:confirm.unverifiedHint'));
    await press(hh, ADMIN, buttonsOf(correction)[0]!);
    expect((await hh.h.deps.params!.store.auditTrail()).at(-1)).toMatchObject({ value: 46000, verified: true, previous: 45000, setBy: ADMIN });
  });

  it('a value for a date between two: the confirm says what is in force before it and which later value still takes over', async () => {
    const hh = new HandoffHarness();
    const admin = hh.operator(ADMIN);
    for (const [from, value] of [['2026-01-01', 40000], ['2026-07-01', 44000]] as const) {
      await press(hh, ADMIN, buttonsOf(await admin.command(`/params poverty_line_kzt astana ${from} ${value} "ref ${from}"`))[0]!);
    }
    const [text] = replies(await admin.command('/params poverty_line_kzt astana 2026-04-01 42000 "ref Q2"'));
    expect(text).toContain(en('params:confirm.before', { from: '2026-04-01', value: kzt(40000), since: '2026-01-01', source: en('params:list.setBy', { id: ADMIN }) }));
    expect(text).toContain(en('params:confirm.until', { date: '2026-07-01', value: kzt(44000) }));
  });

  it('cancel: nothing changes', async () => {
    const hh = new HandoffHarness();
    const [, cancel] = buttonsOf(await hh.operator(ADMIN).command(SET_ASTANA));
    const calls = await press(hh, ADMIN, cancel!);
    expect(edited(calls)).toEqual([en('params:cancelled')]);
    expect(await hh.h.deps.params!.store.version()).toBe(0);
    expect(answered(await press(hh, ADMIN, { ...cancel!, data: cancel!.data.replace('|no', '|ok') }))).toBe(en('params:expired'));
  });

  it('the staff language is the one configured for operators', async () => {
    const hh = new HandoffHarness();
    const [reply] = replies(await hh.operator(ADMIN).command('/params poverty_line_kzt astana 2026-13-01 45000 "ref"'));
    expect(reply?.startsWith(en('params:errors.badDate', { date: '2026-13-01' }))).toBe(true);
  });

  it('the family’s result uses the confirmed value at once and says it is not verified', async () => {
    const hh = new HandoffHarness();
    const before = await familyAtResult(hh.family(612));
    const ru = createTranslator().bind('ru');
    expect(before).not.toContain(ru('view:benefit', { name: ru('benefits:asp_unconditional.name') }));
    await press(hh, ADMIN, buttonsOf(await hh.operator(ADMIN).command(SET_ASTANA))[0]!);
    const after = await familyAtResult(hh.family(613));
    expect(after).toContain(ru('view:benefit', { name: ru('benefits:asp_unconditional.name') }));
    expect(after).toContain(ru('params:family.unverified', { region: ru('facts:region.values.astana'), value: kzt(45000) }));
    expect(after.length).toBeLessThanOrEqual(2500);
  });
});

describe('/params across two bot processes on one real Redis', () => {
  let redisA: Redis;
  let redisB: Redis;
  const prefix = uniquePrefix('test:params-bot');
  beforeAll(async () => {
    redisA = await connectTestRedis();
    redisB = await connectTestRedis();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(redisA, prefix);
    redisA.destroy();
    redisB.destroy();
  });

  it('an admin confirms in process A; a family served by process B gets a result with it after B’s next check', async () => {
    const a = new HandoffHarness({ redis: redisA, prefix });
    const b = new HandoffHarness({ redis: redisB, prefix });
    await b.h.deps.params!.refresh();
    const proposal = await a.operator(ADMIN).command(SET_ASTANA);
    // The press may reach either process: the waiting change is in Redis.
    expect(answered(await press(b, ADMIN, buttonsOf(proposal)[0]!))).toBe(en('params:savedShort'));
    await a.h.deps.params!.refresh();
    const ru = createTranslator().bind('ru');
    const result = await familyAtResult(a.family(614));
    expect(result).toContain(ru('params:family.unverified', { region: ru('facts:region.values.astana'), value: kzt(45000) }));
    // B confirmed it, so B already has it; a third process that has not looked yet would not.
    const c = new HandoffHarness({ redis: redisB, prefix });
    expect(c.h.deps.catalogue.params.poverty_line_kzt).toEqual({});
    await c.h.deps.params!.refresh();
    expect(await familyAtResult(c.family(615))).toContain(ru('view:benefit', { name: ru('benefits:asp_unconditional.name') }));
    expect((await a.h.deps.params!.store.auditTrail()).map((e) => e.setBy)).toEqual([ADMIN]);
  });
});
