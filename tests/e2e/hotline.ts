/**
 * The hotline over the emulator, for end-to-end tests: a bot process with an
 * operators' forum supergroup configured (OPERATORS_CHAT_ID, OPERATOR_IDS),
 * the group with its operators, and a family's way from /start to a case card
 * in a new topic. Shared by handoff.test.ts and referral-journey.test.ts.
 */
import { randomInt } from 'node:crypto';
import { expect, inject, type TestContext } from 'vitest';
import { BotProcess } from '../helpers/bot-process.js';
import { freeLoopbackPort, until, type FakeTelegram, type FamilyChat, type ForumTopic, type GroupMember, type GroupMessage, type OperatorsGroup, type Screen } from '../helpers/fake-telegram.js';
import { uniquePrefix } from '../helpers/redis-client.js';
import { answerQuestions, isResult, isSummary, localeFile, type Answer, type Lang } from '../helpers/screening-walk.js';

export const OPERATOR = 5_100_001;
export const OTHER_OPERATOR = 5_100_002;
export const ADMIN = 5_100_900;

/** The shortest screening: nobody in danger, two people, no children, no life events ticked. */
export const SHORT_WALK: Record<string, Answer> = {
  in_danger_now: { press: 'a:no' },
  household_members: { press: 'a:2' },
  children: { press: 'a:0' },
  topics: { tick: [] },
};

export interface Hotline {
  token: string;
  prefix: string;
  env: Record<string, string>;
  group: OperatorsGroup;
  operator: GroupMember;
  other: GroupMember;
  admin: GroupMember;
  start(): Promise<BotProcess>;
  watch(ctx: TestContext): void;
  stop(): Promise<void>;
}

/**
 * A bot of its own (token, Redis prefix, port, forum group). Start it in beforeAll when the start should not
 * count towards a test's time; watch(ctx) prints its output when that test fails; stop() kills what is left.
 */
export async function hotline(telegram: FakeTelegram, prefixes: string[], extraEnv: Record<string, string> = {}): Promise<Hotline> {
  const token = telegram.newToken();
  const prefix = uniquePrefix('e2e:hotline');
  prefixes.push(prefix);
  const groupId = -1_000_000_000_000 - randomInt(1_000_000, 9_999_999);
  const env = {
    NODE_ENV: 'production',
    BOT_TOKEN: token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    REDIS_URL: inject('redisUrl'),
    KEY_PREFIX: prefix,
    PORT: String(await freeLoopbackPort()),
    LOG_LEVEL: 'info',
    LOG_SALT: 'e2e-hotline-salt',
    INBOX_TAKEOVER_SECONDS: '3',
    OPERATORS_CHAT_ID: String(groupId),
    OPERATOR_IDS: `${OPERATOR},${OTHER_OPERATOR}`,
    ADMIN_IDS: String(ADMIN),
    // The line is open whenever the test runs; the staff language is Russian (the default).
    HOTLINE_HOURS: 'always',
    ...extraEnv,
  };
  const group = telegram.operatorsGroup(token, groupId);
  const mine: BotProcess[] = [];
  return {
    token,
    prefix,
    env,
    group,
    operator: group.member(OPERATOR, 'Айгерим'),
    other: group.member(OTHER_OPERATOR, 'Дана'),
    admin: group.member(ADMIN, 'Админ'),
    async start() {
      const bot = await BotProcess.start(env, 40_000);
      mine.push(bot);
      return bot;
    },
    watch(ctx: TestContext) {
      ctx.onTestFailed(() => {
        for (const b of mine) console.error(`bot output:\n${b.output.slice(-6000)}`);
      });
    },
    async stop() {
      await Promise.all(mine.map((b) => b.kill()));
    },
  };
}

export const newChatId = () => randomInt(10_000_000, 99_999_999);

/** A text of locales/<lang>/<ns>.json by its dotted path, with {{vars}} filled in. */
export function text(lang: Lang | 'ru', ns: string, path: string, vars: Record<string, string | number> = {}): string {
  let node: unknown = localeFile(lang, ns);
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'string') throw new Error(`no text ${lang}/${ns}:${path}`);
  return node.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(vars[name] ?? `{{${name}}}`));
}

/** The part of a text before its first {{variable}}: what a message must start with. */
export function lead(lang: Lang, ns: string, path: string): string {
  return text(lang, ns, path).split('{{')[0]!;
}

/** Consent, the short screening, the result: the family is looking at their result. */
export async function screenToResult(chat: FamilyChat, lang: Lang): Promise<Screen> {
  await chat.say('/start');
  const first = await chat.press('cs');
  const walk = await answerQuestions(chat, lang, first, SHORT_WALK);
  expect(isSummary(walk.screen)).toBe(true);
  const result = await chat.press('ok');
  expect(isResult(result)).toBe(true);
  return result;
}

export interface OpenedCase {
  caseId: string;
  topic: ForumTopic;
  card: GroupMessage;
  /** What the family was told once in the line. */
  inLine: Screen;
}

/** From the result: "talk to a person", share the summary; the case opens in a new topic with its card. */
export async function askForPerson(chat: FamilyChat, lang: Lang, group: OperatorsGroup): Promise<OpenedCase> {
  const topicsBefore = group.topics().length;
  const share = await chat.press('tk');
  expect(share.last.text.startsWith(text(lang, 'bot', 'handoff.family.shareQuestion'))).toBe(true);
  const inLine = await chat.press(/^hs\|1$/);
  expect(inLine.last.text).toBe(text(lang, 'bot', 'handoff.family.inLine', { place: 1, minutes: 5, hours: text(lang, 'bot', 'handoff.family.always') }));
  expect(inLine.last.buttons.map((b) => b.data)).toEqual(['hx']);
  const topic = await until(() => group.topics()[topicsBefore], 'a new topic in the operators’ group');
  const caseId = /#([A-Z0-9]{4,8})/.exec(topic.name)?.[1];
  expect(caseId, `a case id in the topic name “${topic.name}”`).toBeDefined();
  expect(topic.name).toBe(`⏳ #${caseId} · ${lang.toUpperCase()}`);
  const card = await until(() => group.inTopic(topic.id).find((m) => m.buttons.some((b) => b.data === `h|${caseId}|take`)), 'the case card in the topic');
  return { caseId: caseId!, topic, card, inLine };
}

/** The card as it stands now. */
export function cardNow(group: OperatorsGroup, opened: OpenedCase): GroupMessage {
  const card = group.message(opened.card.id);
  if (!card) throw new Error(`the card of #${opened.caseId} is gone`);
  return card;
}

/** A metric's value from the process's /metrics (Prometheus text). */
export async function metric(env: Record<string, string>, name: string): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${env.PORT}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(body);
  if (!m) throw new Error(`no metric ${name}`);
  return Number(m[1]);
}

/** Problems the bot logged (pino level 50+). */
export function loggedErrors(bot: BotProcess): string[] {
  return bot.output.split('\n').filter((line) => /"level":(50|60)/.test(line));
}
