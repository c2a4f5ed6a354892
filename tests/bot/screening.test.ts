/**
 * The questions, the summary, the result and what comes after it, as a family
 * goes through them.
 */
import { describe, expect, it } from 'vitest';
import { BotHarness } from '../helpers/bot-harness.js';
import { ALL_TOPICS, NO_CHILDREN, answerUntil, currentFact, dialogOf, expectSafetyNet, factsOf, isChildQuestion, popup, sentButtons, sentTexts, startScreening, text } from '../helpers/family-dialog.js';

describe('questions', () => {
  it('one question per message, each with Back, Skip, Talk to a person and I am not safe; sensitive ones say why', async () => {
    const h = new BotHarness();
    const f = h.family(201);
    await f.say('/start');
    let calls = await f.press('cs');
    const seen: string[] = [];
    for (let i = 0; i < 60; i++) {
      const snapshot = await dialogOf(h, 201);
      if (snapshot.matches({ main: { screening: 'summary' } })) break;
      const fact = snapshot.context.current!;
      const texts = sentTexts(calls);
      const codes = sentButtons(calls).map((d) => d.split('|')[1]);
      const together = snapshot.context.together ?? [];
      if (together.length) {
        // Questions asked together: one message, a line and a tick for each, Done, and one "skip" for all that says why.
        seen.push(...together);
        expect(texts, `one message for ${together.join(', ')}`).toHaveLength(1);
        expect(texts[0]).toContain(text(h, 'ru', 'facts:together.question'));
        for (const id of together) expect(texts[0]).toContain(`• ${text(h, 'ru', `facts:${id}.item`)}`);
        expect(codes).toEqual(expect.arrayContaining([...together.map((id) => `t:${id}`), 'ok', 'sk', 'bk', 'tk', 'dg']));
        if (together.some((id) => h.deps.catalogue.facts.find((d) => d.id === id)?.sensitive)) {
          expect(texts[0]).toContain(text(h, 'ru', 'facts:together.why'));
          expect(f.buttons.some((b) => b.text === text(h, 'ru', 'buttons.skipThese'))).toBe(true);
        }
        calls = await f.press('sk');
        continue;
      }
      seen.push(fact);
      expect(texts, `one message for ${fact}`).toHaveLength(1);
      expect(texts[0]).toContain(text(h, 'ru', `facts:${fact}.question`));
      const def = h.deps.catalogue.facts.find((d) => d.id === fact)!;
      // The topics screen has its own "not sure" tick instead of "don't know".
      expect(codes, fact).toEqual(expect.arrayContaining(['bk', ...(def.of === 'topic' ? ['t:not_sure', 'ok'] : ['sk']), 'tk', 'dg']));
      if (def.sensitive) {
        expect(texts[0]).toContain(text(h, 'ru', `facts:${fact}.why`));
        expect(f.buttons.some((b) => b.text === text(h, 'ru', 'buttons.skipSensitive'))).toBe(true);
      }
      // The previous question's buttons are taken away, so an old message does not tempt.
      if (i > 0) expect(calls.some((c) => c.method === 'editMessageReplyMarkup')).toBe(true);
      if (fact === 'topics') {
        for (const topic of ALL_TOPICS) await f.press(`t:${topic}`);
        calls = await f.press('ok');
        continue;
      }
      calls = await f.press(NO_CHILDREN[fact as keyof typeof NO_CHILDREN] !== undefined ? `a:${NO_CHILDREN[fact as keyof typeof NO_CHILDREN]}` : 'sk');
    }
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.some((fact) => h.deps.catalogue.facts.find((d) => d.id === fact)?.sensitive)).toBe(true);
  });

  it('a household with no children is never asked about children, and the summary does not list them', async () => {
    const h = new BotHarness();
    const f = h.family(202);
    await startScreening(f);
    const asked = await answerUntil(f, NO_CHILDREN);
    expect(asked).toContain('children');
    expect(asked.filter(isChildQuestion)).toEqual([]);
    for (const def of h.deps.catalogue.facts.filter((d) => isChildQuestion(d.id))) {
      expect(f.texts.join('\n')).not.toContain(text(h, 'ru', `facts:${def.id}.question`));
      expect(f.lastText).not.toContain(`${text(h, 'ru', `facts:${def.id}.label`)}:`);
    }
  });

  it('a household with children is asked about them', async () => {
    const h = new BotHarness();
    const f = h.family(203);
    await startScreening(f);
    const asked = await answerUntil(f, { ...NO_CHILDREN, children: 2, children_under_3: 0 });
    expect(asked.filter(isChildQuestion).length).toBeGreaterThan(3);
  });

  it('Back returns to the previous question and forgets its answer', async () => {
    const h = new BotHarness();
    const f = h.family(204);
    await startScreening(f);
    await f.press('a:no');
    const second = await currentFact(h, 204);
    await f.press('bk');
    expect(await currentFact(h, 204)).toBe('in_danger_now');
    expect(await factsOf(h, 204)).toEqual({});
    await f.press('a:no');
    expect(await currentFact(h, 204)).toBe(second);
  });
});

describe('questions asked together', () => {
  const GROUP = ['member_socially_significant_disease', 'expecting_or_child_under_1_5', 'member_pension_age_no_pension', 'member_hazardous_work_lists'];
  async function toGroup(h: BotHarness, chat: number) {
    const f = h.family(chat);
    await startScreening(f);
    await answerUntil(f, { in_danger_now: 'no', household_members: 5, children: 3, topics: ['health', 'money'], member_disability_group: '2' }, (fact) => fact === GROUP[0]);
    expect((await dialogOf(h, chat)).context.together).toEqual(GROUP);
    return f;
  }

  it('a tick says "yes", a line left unticked "no", one Done for all; Back returns to the screen with its ticks', async () => {
    const h = new BotHarness();
    const f = await toGroup(h, 231);
    await f.press('t:expecting_or_child_under_1_5');
    expect(f.buttons.find((b) => b.data.endsWith('|t:expecting_or_child_under_1_5'))!.text).toBe(`✅ ${text(h, 'ru', 'facts:expecting_or_child_under_1_5.button')}`);
    await f.press('t:member_hazardous_work_lists');
    await f.press('t:member_hazardous_work_lists'); // ticked by mistake, unticked
    await f.press('ok');
    const after = await dialogOf(h, 231);
    expect(GROUP.map((id) => after.context.facts[id])).toEqual(['no', 'yes', 'no', 'no']);
    expect(after.context.history.at(-1)).toBe(GROUP.join('+'));
    expect(after.context.together).toEqual([]);

    await f.press('bk');
    const back = await dialogOf(h, 231);
    expect(back.context.together).toEqual(GROUP);
    expect(back.context.draft).toEqual(['expecting_or_child_under_1_5']);
    for (const id of GROUP) expect(back.context.facts[id]).toBeUndefined();
    expect(f.buttons.filter((b) => b.text.startsWith('✅ ')).map((b) => b.data.split('|t:')[1])).toEqual(['expecting_or_child_under_1_5']);
  });

  it('"skip these questions" says "don\'t know" for all; typed "yes" answers none of them', async () => {
    const h = new BotHarness();
    const f = await toGroup(h, 232);
    expect(f.buttons.some((b) => b.text === text(h, 'ru', 'buttons.skipThese'))).toBe(true);
    await f.say('да');
    expect(f.lastText).toContain(text(h, 'ru', 'errors.tickThenDone'));
    expect(f.lastText).not.toContain(text(h, 'ru', 'errors.doesNotAgree'));
    expect((await dialogOf(h, 232)).context.together).toEqual(GROUP);
    for (const id of GROUP) expect((await factsOf(h, 232))[id]).toBeUndefined();
    await f.press('sk');
    const facts = await factsOf(h, 232);
    expect(GROUP.map((id) => facts[id])).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
  });

  it('each answer is shown on the summary, and edited there on its own', async () => {
    const h = new BotHarness();
    const f = await toGroup(h, 233);
    await f.press('ok');
    await answerUntil(f, {});
    expect(f.lastText).toContain(`${text(h, 'ru', 'facts:member_hazardous_work_lists.label')}: ${text(h, 'ru', 'results:value.no')}`);
    await f.press('gr:money');
    await f.press('ed:member_hazardous_work_lists');
    expect((await dialogOf(h, 233)).context.together).toEqual([]);
    expect(f.lastText).toContain(text(h, 'ru', 'facts:member_hazardous_work_lists.question'));
    await f.press('a:yes');
    await answerUntil(f, {});
    expect(f.lastText).toContain(`${text(h, 'ru', 'facts:member_hazardous_work_lists.label')}: ${text(h, 'ru', 'results:value.yes')}`);
    expect((await factsOf(h, 233)).expecting_or_child_under_1_5).toBe('no');
  });
});

describe('typed numbers', () => {
  it.each([
    ['3', 3],
    [' 4 ', 4],
    ['5 человек', undefined],
  ])('household size typed as %j', async (typed, value) => {
    const h = new BotHarness();
    const f = h.family(211);
    await startScreening(f);
    await f.press('a:no');
    expect(await currentFact(h, 211)).toBe('household_members');
    await f.say(typed);
    expect((await factsOf(h, 211)).household_members).toBe(value);
  });

  it.each([
    ['150 000', 150000],
    ['150000 тг', 150000],
    ['150.000 ₸', 150000],
    ['150 000 теңге', 150000],
  ])('an amount typed as %j is read as %d', async (typed, value) => {
    const { readTyped } = await import('../../src/bot/answers.js');
    const h = new BotHarness();
    const def = h.deps.catalogue.facts.find((d) => d.id === 'monthly_income_kzt')!;
    expect(readTyped(def, typed)).toEqual({ ok: true, value });
  });

  it.each(['kk', 'ru'] as const)('a bad number gets a kind error in %s and nothing changes', async (lang) => {
    const h = new BotHarness();
    const f = h.family(212, lang);
    await startScreening(f);
    await f.press('a:no');
    const before = await dialogOf(h, 212);
    const buttons = f.buttons;

    const question = text(h, lang, 'facts:household_members.question');
    expectSafetyNet(h, lang, await f.say('много'), text(h, lang, 'numbers.words'), question);
    expectSafetyNet(h, lang, await f.say('2.5'), text(h, lang, 'numbers.whole'), question);
    expectSafetyNet(h, lang, await f.say('99'), text(h, lang, 'errors.outOfRange', { min: 1, max: 30 }), question);
    expectSafetyNet(h, lang, await f.say('0'), text(h, lang, 'errors.outOfRange', { min: 1, max: 30 }), question);

    const after = await dialogOf(h, 212);
    expect(after.context.facts).toEqual(before.context.facts);
    expect(after.context.step).toBe(before.context.step);
    // The buttons shown before the errors still work: nothing moved on.
    const three = buttons.find((b) => b.data.endsWith('|a:3'))!;
    await f.pressData(three.data, three.messageId);
    expect((await factsOf(h, 212)).household_members).toBe(3);
  });

  it('typed "не знаю" and "білмеймін" count as Don\'t know', async () => {
    const h = new BotHarness();
    const f = h.family(213);
    await startScreening(f);
    await f.press('a:no');
    await f.say('не знаю');
    expect((await factsOf(h, 213)).household_members).toBe('unknown');
    await f.say('білмеймін');
    expect((await factsOf(h, 213)).children).toBe('unknown');
  });
});

describe('summary and editing', () => {
  it('lists the answers; editing one returns to the summary with the new answer', async () => {
    const h = new BotHarness();
    const f = h.family(221);
    await startScreening(f);
    await answerUntil(f, { ...NO_CHILDREN, housing: 'rent' });
    expect(f.lastText).toContain(text(h, 'ru', 'summary.title'));
    expect(f.lastText).toContain(`${text(h, 'ru', 'facts:household_members.label')}: 2`);
    expect(f.lastText).toContain(`${text(h, 'ru', 'facts:housing.label')}: ${text(h, 'ru', 'facts:housing.values.rent')}`);

    // One edit button per group: the household and each topic; a group opens with a button per answer.
    const groups = f.buttons.filter((b) => /\|gr:/.test(b.data)).map((b) => b.data.split('|gr:')[1]);
    expect(groups[0]).toBe('household');
    expect(groups).toContain('housing');
    expect(f.buttons.some((b) => /\|ed:/.test(b.data))).toBe(false);
    await f.press('gr:housing');
    expect(f.lastText).toContain(`${text(h, 'ru', 'facts:housing.label')}: ${text(h, 'ru', 'facts:housing.values.rent')}`);
    await f.press('ed:housing');
    expect(f.lastText).toContain(text(h, 'ru', 'question.editing'));
    expect(f.buttons.some((b) => b.text === text(h, 'ru', 'buttons.backToSummary'))).toBe(true);
    await f.press('a:own');
    expect(f.lastText).toContain(text(h, 'ru', 'summary.title'));
    expect(f.lastText).toContain(`${text(h, 'ru', 'facts:housing.label')}: ${text(h, 'ru', 'facts:housing.values.own')}`);

    // "Back to my answers" from an edit changes nothing.
    await f.press('gr:housing');
    await f.press('ed:housing');
    await f.press('bk');
    expect((await dialogOf(h, 221)).matches({ main: { screening: 'summary' } })).toBe(true);
    expect((await factsOf(h, 221)).housing).toBe('own');
  });

  it('an edit that opens new questions asks them first, then shows the summary', async () => {
    const h = new BotHarness();
    const f = h.family(222);
    await startScreening(f);
    await answerUntil(f, NO_CHILDREN);
    await f.press('gr:household');
    await f.press('ed:children');
    await f.press('a:2');
    const asked = await answerUntil(f, { children_under_3: 0 });
    expect(asked[0]).toBe('children_under_3');
    expect(asked.filter(isChildQuestion).length).toBeGreaterThan(3);
    expect(f.lastText).toContain(text(h, 'ru', 'summary.title'));
    expect(f.lastText).toContain(`${text(h, 'ru', 'facts:children.label')}: 2`);
  });
});

describe('result and next steps', () => {
  async function atResult(chatId: number) {
    const h = new BotHarness();
    const f = h.family(chatId);
    await startScreening(f);
    await answerUntil(f, { ...NO_CHILDREN, domestic_violence: 'yes', member_disability_group: '2' });
    const calls = await f.press('ok');
    return { h, f, result: sentTexts(calls).join('\n\n') };
  }

  it('the first view is one short message: what is suggested, the numbers, next steps, "not a decision" once', async () => {
    const { h, result } = await atResult(231);
    expect(result.length).toBeLessThanOrEqual(2500);
    expect(result).not.toContain('\n\n\n');
    expect(result.startsWith(text(h, 'ru', 'results:urgent', { numbers: '102 · 111 · 150' }))).toBe(true);
    expect(result).toContain(text(h, 'ru', 'view:ground', { name: text(h, 'ru', 'grounds:cruel_treatment.short') }));
    expect(result).toContain(text(h, 'ru', 'view:next'));
    expect(result.split(text(h, 'ru', 'view:notADecision'))).toHaveLength(2);
    expect(result).not.toContain(text(h, 'ru', 'results:documents'));
    expect(result).not.toMatch(/Основание: .+/);
  });

  it('"Why?", "Documents" and "Where to go" open the rest, and the dialog does not move', async () => {
    const { h, f } = await atResult(236);
    const before = await dialogOf(h, 236);
    const why = sentTexts(await f.press('vw:why')).join('\n\n');
    expect(why).toContain(text(h, 'ru', 'view:whyTitle'));
    expect(why).toMatch(/Основание: .+/);
    expect(why).toContain('✅');
    const docs = sentTexts(await f.press('vw:docs')).join('\n');
    expect(docs.startsWith(text(h, 'ru', 'view:documentsTitle'))).toBe(true);
    expect(docs).toContain(text(h, 'ru', 'documents:id_document'));
    expect(docs).toContain(text(h, 'ru', 'view:unconfirmed'));
    // Only what is suggested: nothing for grounds that are only "not clear yet".
    expect(docs).not.toContain(text(h, 'ru', 'documents:release_certificate'));
    expect(new Set(docs.split('\n')).size).toBe(docs.split('\n').length);
    const where = sentTexts(await f.press('vw:where')).join('\n');
    expect(where).toContain(text(h, 'ru', 'places:crisis_centre'));
    for (const n of ['102', '111', '150']) expect(where).toContain(`📞 ${n} — `);
    const after = await dialogOf(h, 236);
    expect(after.value).toEqual(before.value);
    expect(after.context.step).toBe(before.context.step);
    expect(f.buttons.map((b) => b.data.split('|')[1])).toContain('tk');
  });

  it('"Answer more" asks again the questions answered "don\'t know" that could settle something, then shows the result', async () => {
    const { h, f } = await atResult(237);
    const more = f.buttons.find((b) => b.data.endsWith('|am'))!;
    expect(more).toBeDefined();
    await f.pressData(more.data, more.messageId);
    const again = await dialogOf(h, 237);
    expect(again.matches({ main: { screening: 'asking' } })).toBe(true);
    expect(again.context.facts[again.context.current!]).toBeUndefined();
    await answerUntil(f, {});
    await f.press('ok');
    expect((await dialogOf(h, 237)).matches({ main: 'result' })).toBe(true);
  });

  it('talk to a person shows the hotlines and returns to the result', async () => {
    const { h, f } = await atResult(232);
    await f.press('tk');
    expect(f.lastText).toContain(text(h, 'ru', 'talk.intro'));
    expect(f.lastText).toContain('111');
    await f.press('rs');
    expect(f.lastText).toContain(text(h, 'ru', 'view:next'));
  });

  it('refer explains the referral is not yet available and returns to the result', async () => {
    const { h, f } = await atResult(233);
    await f.press('rf');
    expect(f.lastText).toContain(text(h, 'ru', 'refer.notYet'));
    await f.press('rs');
    expect(f.lastText).toContain(text(h, 'ru', 'view:next'));
  });

  it('save says how long the answers are kept', async () => {
    const { h, f } = await atResult(234);
    await f.press('sv');
    expect(f.lastText).toBe(text(h, 'ru', 'saved.text', { days: 30 }));
    await f.press('rs');
    expect(f.lastText).toContain(text(h, 'ru', 'view:next'));
  });

  it('change answer returns to the summary; restart starts again with no answers', async () => {
    const { h, f } = await atResult(235);
    await f.press('bk');
    expect(f.lastText).toContain(text(h, 'ru', 'summary.title'));
    await f.press('ok');
    const calls = await f.press('rt');
    expect(popup(calls)).toBe('');
    expect(f.lastText).toContain(text(h, 'ru', 'intro.greeting'));
    expect(await factsOf(h, 235)).toEqual({});
  });
});
