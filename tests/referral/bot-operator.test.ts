/**
 * The operators' side of referrals on a real Redis: Refer on a claimed case's
 * card (profile, the pre-filled packet, confirm), the family asked in their
 * chat with exactly that packet, their yes or no, the topic told the result of
 * routing; and the admins' /invite, /unlink, /directory reload and /export.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputFile } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import type { CaseRecord } from '../../src/handoff/types.js';
import type { Redis } from '../../src/store/redis.js';
import type { FamilyDriver } from '../helpers/bot-harness.js';
import { ADMIN, answered, GROUP, OPERATOR, OTHER, sentTo, STRANGER } from '../helpers/handoff-harness.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { DIRECTORY_YAML, lastShown, ReferralBotHarness, textsTo, WORKER_USER } from './bot-referral-harness.js';

const base = uniquePrefix('test:referral-bot-operator');
let redis: Redis;
let n = 0;
const harness = () => new ReferralBotHarness(redis, `${base}${++n}:`);
const NOT_ALLOWED = 'Not allowed: only operators on duty can do this.';

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, base);
  redis.destroy();
});

/** A family from Astana (by link) shares their summary, and OPERATOR takes the case. */
async function claimedCase(rb: ReferralBotHarness, chatId: number, lang = 'ru'): Promise<{ family: FamilyDriver; rec: CaseRecord }> {
  const family = rb.family(chatId, lang);
  await family.say('/start r-astana');
  await family.press('cs');
  const rec = await rb.hh.open(family);
  await rb.hh.operator(OPERATOR).press(rec, 'take');
  return { family, rec: await rb.hh.get(rec.id) };
}

function groupTexts(calls: ApiCall[]): string[] {
  return [...sentTo(calls, GROUP), ...calls.filter((c) => c.method === 'editMessageText' && Number(c.payload.chat_id) === GROUP).map((c) => String(c.payload.text))];
}

describe('Refer on the case card', () => {
  it('profile → the pre-filled packet → the family asked with exactly it → yes creates the referral; the topic hears where it went', async () => {
    const rb = harness();
    await rb.link('w-ast-1');
    const { family, rec } = await claimedCase(rb, 7501, 'kk');
    const op = rb.hh.operator(OPERATOR);
    const card = [...rb.telegram.calls].reverse().find((c) => c.method === 'editMessageText' && c.payload.message_id === rec.cardMessageId)!;
    expect(lastShown([card], GROUP)!.data).toContain(`h|${rec.id}|rf`);

    // The operator's note goes into the packet.
    const prompt = (await op.press(rec, 'note')).find((c) => c.method === 'sendMessage')!;
    await op.replyToNotePrompt(prompt, 'Мать одна с двумя детьми, просит визит');

    const menu = await op.press(rec, 'rf');
    expect(lastShown(menu, GROUP)!.data).toEqual([...['assessment', 'children_family', 'disability', 'elderly_care', 'psychologist', 'legal_benefits', 'violence'].map((p) => `h|${rec.id}|rf:${p}`), `h|${rec.id}|rx`]);
    const preview = lastShown(await op.press(rec, 'rf:children_family'), GROUP)!;
    expect(preview.text).toContain(`Referral from case #${rec.id}, profile Children and family`);
    expect(preview.text).toContain('Where: Astana');
    expect(preview.text).toContain("Operator's note: Мать одна с двумя детьми, просит визит");
    expect(preview.text).toContain('Contact: in Telegram, through this bot');
    expect(preview.data).toEqual([`h|${rec.id}|rq:children_family`, `h|${rec.id}|rx`]);
    expect(await rb.service.statusFor(7501)).toEqual([]);

    const asked = await op.press(rec, 'rq:children_family');
    expect(groupTexts(asked)).toContain(`Case #${rec.id}: the family is asked to agree to the referral (Children and family).`);
    const question = textsTo(asked, 7501)[0]!;
    expect(question).toContain('Оператор сұрауыңызды отбасын сүйемелдеу жөніндегі әлеуметтік қызметкерге (кейс менеджерге) (Астана) беруді ұсынады');
    expect(question).toContain('• Оператордың жазбасы: Мать одна с двумя детьми, просит визит');
    expect(await rb.service.statusFor(7501)).toEqual([]); // not before the family says yes

    family.buttons = lastShown(asked, 7501)!.data.map((data, i) => ({ data, text: String(i), messageId: 1 }));
    const yes = await family.press(/^ro\|/);
    const [referral] = await rb.service.statusFor(7501);
    expect(referral).toMatchObject({ source: 'operator', profile: 'children_family', region: 'astana', lang: 'kk', workerId: 'w-ast-1' });
    expect(referral!.packet).toMatchObject({ caseId: rec.id, note: 'Мать одна с двумя детьми, просит визит', contact: { kind: 'telegram' } });
    expect(textsTo(yes, 7501)).toEqual([rb.hh.h.deps.translator.t('kk', 'referral:family.created', { id: referral!.id })]);
    expect(sentTo(yes, GROUP)).toEqual([`Case #${rec.id}: the family agreed. Referral ${referral!.id} created. It went to worker w-ast-1.`]);
    const card2 = lastShown(await rb.deliver(), WORKER_USER['w-ast-1'])!;
    expect(card2.text).toContain(`Откуда: обращение на горячую линию #${rec.id}`);
    expect(rb.missingKeys()).toEqual([]);
  });

  it('the family says no: nothing is created and the topic is told', async () => {
    const rb = harness();
    const { family, rec } = await claimedCase(rb, 7502);
    const op = rb.hh.operator(OPERATOR);
    await op.press(rec, 'rf');
    await op.press(rec, 'rf:assessment');
    const asked = await op.press(rec, 'rq:assessment');
    family.buttons = lastShown(asked, 7502)!.data.map((data, i) => ({ data, text: String(i), messageId: 1 }));
    const no = await family.press(/^rn\|/);
    expect(textsTo(no, 7502)).toEqual([rb.hh.h.deps.translator.t('ru', 'referral:family.suggestionRefused')]);
    expect(sentTo(no, GROUP)).toEqual([`Case #${rec.id}: the family did not agree to the referral. Nothing was sent.`]);
    expect(await rb.service.statusFor(7502)).toEqual([]);
  });

  it('only the operator holding the case (or a supervisor or admin) can refer it; others are refused', async () => {
    const rb = harness();
    const { rec } = await claimedCase(rb, 7503);
    expect(answered(await rb.hh.operator(STRANGER).press(rec, 'rf'))).toBe(NOT_ALLOWED);
    expect(answered(await rb.hh.operator(OTHER).press(rec, 'rf:assessment'))).toBe(NOT_ALLOWED);
    expect(rb.hh.logs.filter((l) => l.msg === 'not allowed').length).toBe(2);
  });
});

describe('admin commands', () => {
  it('/invite sends the code and link privately; the code links the worker; /unlink removes the link', async () => {
    const rb = harness();
    const admin = rb.hh.operator(ADMIN);
    const calls = await admin.command('/invite w-ast-2');
    const privately = textsTo(calls, ADMIN)[0]!;
    const code = /start=w-([A-Za-z0-9_-]+)/.exec(privately)![1]!;
    expect(privately).toContain('https://t.me/qamqor_demo_bot?start=w-');
    expect(sentTo(calls, GROUP)).toEqual(['Invite code for w-ast-2 sent to you privately.']);
    const worker = rb.worker('w-ast-2');
    await worker.say(`/start w-${code}`);
    expect(await rb.service.workerOf(WORKER_USER['w-ast-2'])).toBe('w-ast-2');

    expect(sentTo(await admin.command('/unlink w-ast-2'), GROUP)[0]).toContain('Worker w-ast-2 is unlinked');
    expect(await rb.service.workerOf(WORKER_USER['w-ast-2'])).toBeUndefined();
    expect(sentTo(await admin.command('/invite nobody-here'), GROUP)).toEqual(['No worker nobody-here in the directory.']);
    expect(answered(await rb.hh.operator(OPERATOR).command('/invite w-ast-1')) ?? sentTo(rb.telegram.calls, GROUP).at(-1)).toBe(NOT_ALLOWED);
  });

  it('/invite falls back to the group when the admin has no private chat with the bot', async () => {
    const rb = harness();
    rb.telegram.failNext('sendMessage', 403, "Forbidden: bot can't initiate conversation with a user");
    const calls = await rb.hh.operator(ADMIN).command('/invite w-ast-1');
    expect(sentTo(calls, GROUP)[0]).toMatch(/^I could not write to you privately[\s\S]*start=w-/);
  });

  it('/directory reload: problems named by file and entry keep the old directory; a good file replaces it', async () => {
    const rb = harness();
    const admin = rb.hh.operator(ADMIN);
    writeFileSync(rb.directoryPath, DIRECTORY_YAML.replace('region: karaganda', 'region: atlantis'));
    const bad = sentTo(await admin.command('/directory reload'), GROUP)[0]!;
    expect(bad).toMatch(/^The directory was NOT reloaded/);
    expect(bad).toContain(basename(rb.directoryPath));
    expect(bad).toContain('atlantis');
    expect(rb.service.directory().workers.map((w) => w.id)).toContain('w-kar-1');

    writeFileSync(rb.directoryPath, DIRECTORY_YAML.replace(/  - id: w-kar-1[\s\S]*$/, ''));
    expect(sentTo(await admin.command('/directory reload'), GROUP)[0]).toMatch(/^Directory reloaded: 2 organisations, 4 workers\./);
    expect(rb.service.directory().workers.map((w) => w.id)).not.toContain('w-kar-1');
  });

  it('/export sends a CSV of referrals without names, phone numbers or free text', async () => {
    const rb = harness();
    await rb.service.create({
      packet: { lang: 'ru', region: 'astana', urgent: false, profile: 'assessment', result: [], receives: [], contact: { kind: 'phone', phone: '+77011234567' }, note: 'Асель, ул. Абая 5', admissionRoutes: [] },
      familyChatId: 7601,
      source: 'family',
      actor: { kind: 'family' },
    });
    const calls = await rb.hh.operator(ADMIN).command('/export 2026-11-01 2026-11-30');
    const doc = calls.find((c) => c.method === 'sendDocument')!;
    expect(doc.payload.caption).toBe('Referrals created 2026-11-01 – 2026-11-30: 1 rows. No names, phone numbers or free text.');
    const file = doc.payload.document as InputFile;
    expect(file.filename).toBe('referrals-2026-11-01-2026-11-30.csv');
    const csv = String((file as unknown as { fileData: Buffer }).fileData);
    expect(csv.split(/\r?\n/)[0]).toMatch(/^id,created,region/);
    expect(csv).toContain('astana');
    expect(csv).not.toContain('77011234567');
    expect(csv).not.toContain('Абая');
    expect(sentTo(await rb.hh.operator(ADMIN).command('/export 2025-01-01 2025-01-31'), GROUP)).toEqual(['No referrals created 2025-01-01 – 2025-01-31.']);
    expect(sentTo(await rb.hh.operator(ADMIN).command('/export yesterday'), GROUP)).toEqual(['Usage: /export [from] [to] with dates as YYYY-MM-DD']);
  });
});
