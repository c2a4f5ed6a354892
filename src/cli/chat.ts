/**
 * The terminal demo: the very same bot, with in-memory stores and no network.
 * Bot messages are printed with numbered buttons; type # and the number to
 * press a button of the last message (#2), or type text (also /commands) to
 * send it. A plain number is sent as text, as in Telegram: 3 answers "how many
 * children" with 3, whatever button is labelled 3.
 *   npm run chat                 (Russian)
 *   npm run chat -- --lang kk    (Kazakh; en for English)
 *   npm run chat -- --operator   (with a hotline operator you play yourself:
 *                                 "@op take", "@op <message>", "@op close")
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Update } from 'grammy/types';
import { createDeps } from '../app.js';
import { createBot } from '../bot/create-bot.js';
import { FAKE_BOT_INFO, InProcessTelegram, type ApiCall } from '../bot/in-process-api.js';
import { isLang } from '../i18n/i18n.js';
import { createLogger } from '../log.js';
import { WorkingHours } from '../handoff/hours.js';

const { values } = parseArgs({ options: { lang: { type: 'string', default: 'ru' }, params: { type: 'string' }, operator: { type: 'boolean', default: false } } });
if (!isLang(values.lang)) {
  console.error(`--lang: expected kk, ru or en, got ${values.lang}`);
  process.exit(2);
}
const lang = values.lang;

const OPERATORS_GROUP = -1000000000777;
const OPERATOR = { id: 9001, is_bot: false, first_name: 'Aigerim' };
const operatorsChat = { id: OPERATORS_GROUP, type: 'supergroup' as const, title: 'Operators', is_forum: true as const };

const telegram = new InProcessTelegram();
const deps = createDeps({
  prefix: 'demo:',
  dialogTtlDays: 30,
  log: createLogger('silent'),
  logSalt: 'demo-salt',
  paramsFile: values.params,
  handoff: values.operator
    ? {
        config: {
          groupId: OPERATORS_GROUP,
          operatorIds: [OPERATOR.id],
          supervisorIds: [],
          hours: WorkingHours.parse('always'),
          firstResponseMinutes: 15,
          nextResponseMinutes: 30,
          showOperatorName: true,
          staffLang: lang,
        },
        minutesPerCase: 10,
        adminIds: [],
      }
    : undefined,
});
const bot = createBot('0:demo', deps, { botInfo: FAKE_BOT_INFO });
bot.api.config.use(telegram.transformer);

const CHAT_ID = 424242;
const user = { id: CHAT_ID, is_bot: false, first_name: 'Demo', language_code: lang };
const chat = { id: CHAT_ID, type: 'private' as const, first_name: 'Demo' };
let updateId = 1;
let messageId = 100000;
/** Buttons of the last message that had any: [label, callback data, message id]. */
let buttons: { text: string; data: string; messageId: number }[] = [];
let sent = 0;
/** The operators' side: the last case card's buttons and topic. */
let cardButtons: { text: string; data: string; messageId: number }[] = [];
let topicId = 0;
/** Texts of messages sent by the family or the operator, to show what a copy carried. */
const typed = new Map<number, string>();

telegram.onCall = (call: ApiCall) => {
  const p = call.payload;
  if (p.chat_id === OPERATORS_GROUP) return showOperatorsSide(call);
  if (call.method === 'copyMessage') {
    console.log(`\n🙋 ${OPERATOR.first_name}: ${typed.get(Number(p.message_id)) ?? '(a message)'}`);
  } else if (call.method === 'sendMessage') {
    sent++;
    console.log(`\n🤖 ${String(p.text)}`);
    const rows = (p.reply_markup as { inline_keyboard?: { text: string; callback_data: string }[][] } | undefined)?.inline_keyboard;
    if (rows?.length) {
      const id = (call.result as { message_id: number } | undefined)?.message_id ?? 0;
      buttons = rows.flat().map((b) => ({ text: b.text, data: b.callback_data, messageId: id }));
      console.log(buttons.map((b, i) => `  [#${i + 1}] ${b.text}`).join('\n'));
    }
  } else if (call.method === 'answerCallbackQuery' && p.text) {
    console.log(`\n💬 ${String(p.text)}`);
  }
};

function showOperatorsSide(call: ApiCall): void {
  const p = call.payload;
  if (call.method === 'createForumTopic') {
    topicId = (call.result as { message_thread_id: number }).message_thread_id;
    console.log(`\n    👥 [operators] new topic: ${String(p.name)}`);
  } else if (call.method === 'copyMessage') {
    console.log(`\n    👥 [operators, topic ${String(p.message_thread_id)}] family: ${typed.get(Number(p.message_id)) ?? '(a message)'}`);
  } else if (call.method === 'sendMessage' || call.method === 'editMessageText' || call.method === 'editMessageReplyMarkup') {
    if (p.text) console.log(`\n    👥 [operators] ${String(p.text).replace(/\n/g, '\n    ')}`);
    const rows = (p.reply_markup as { inline_keyboard?: { text: string; callback_data: string }[][] } | undefined)?.inline_keyboard;
    if (rows?.length) {
      const id = call.method === 'sendMessage' ? ((call.result as { message_id: number } | undefined)?.message_id ?? 0) : Number(p.message_id);
      if (call.method === 'editMessageReplyMarkup' && !rows.flat().length) return;
      cardButtons = rows.flat().map((b) => ({ text: b.text, data: b.callback_data, messageId: id }));
      console.log(`    buttons: ${cardButtons.map((b) => b.text).join(' · ')}  (type @op take, @op close, @op <message>)`);
    }
  }
}

/** "@op take", "@op close", or "@op <message>": the operator's side, played from the same terminal. */
async function operatorSays(command: string): Promise<void> {
  const press = (suffix: string) => {
    const b = cardButtons.find((x) => x.data.endsWith(suffix));
    if (!b) return console.log(`\n(no "${suffix}" button on the card now)`);
    return bot.handleUpdate({
      update_id: updateId++,
      callback_query: { id: String(updateId), from: OPERATOR, chat_instance: 'ops', data: b.data, message: { message_id: b.messageId, date: 0, chat: operatorsChat, text: '' } },
    });
  };
  if (command === 'take') return void (await press('|take'));
  if (command === 'close') {
    await press('|cl');
    return void (await press('|cl:informed'));
  }
  const id = messageId++;
  typed.set(id, command);
  await bot.handleUpdate({
    update_id: updateId++,
    message: { message_id: id, date: 0, chat: operatorsChat, from: OPERATOR, text: command, message_thread_id: topicId, is_topic_message: true },
  });
}

function textUpdate(text: string): Update {
  const entities = text.startsWith('/') ? [{ type: 'bot_command' as const, offset: 0, length: text.split(/\s/)[0]!.length }] : undefined;
  const id = messageId++;
  typed.set(id, text);
  return { update_id: updateId++, message: { message_id: id, date: Math.floor(Date.now() / 1000), chat, from: user, text, entities } };
}

function pressUpdate(button: { data: string; messageId: number }): Update {
  return {
    update_id: updateId++,
    callback_query: {
      id: String(updateId),
      from: user,
      chat_instance: 'demo',
      data: button.data,
      message: { message_id: button.messageId, date: Math.floor(Date.now() / 1000), chat, text: '' },
    },
  };
}

async function handle(line: string): Promise<void> {
  const input = line.trim();
  if (!input) return;
  if (values.operator && input.startsWith('@op ')) return operatorSays(input.slice(4).trim());
  // "#2" presses the second button; a plain number is text, like any other message.
  const press = /^#\s*(\d+)$/.exec(input);
  if (press) {
    const button = buttons[Number(press[1]) - 1];
    if (!button) return void console.log(`\n(no button #${press[1]} on the last message: ${buttons.length ? `#1–#${buttons.length}` : 'it has none'})`);
    console.log(`\n👤 [${button.text}]`);
    await bot.handleUpdate(pressUpdate(button));
    return;
  }
  const text = input.startsWith('=') ? input.slice(1).trim() : input; // "=150000", as the demo once asked, still sends the number
  console.log(`\n👤 ${text}`);
  await bot.handleUpdate(textUpdate(text));
}

console.log(`Qamqor terminal demo (${lang}). Type #1, #2… to press a button, or a message (a plain number such as 3 or 150000 is sent as text). /help lists commands; Ctrl+D quits.`);
await bot.handleUpdate(textUpdate('/start'));
if (lang === 'en') {
  const english = buttons.find((b) => b.data.endsWith('lg:en'));
  if (english) await bot.handleUpdate(pressUpdate(english));
}
const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY });
if (process.stdin.isTTY) rl.setPrompt('> ');
rl.prompt?.();
// Lines are handled strictly one after another, as Telegram delivers one chat's updates.
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(() => handle(line)).then(() => rl.prompt?.());
});
rl.on('close', () => {
  void chain.then(() => {
    console.log(`\n(${sent} messages; demo ended)`);
    process.exit(0);
  });
});
