/**
 * The terminal demo: the very same bot, with in-memory stores and no network.
 * Bot messages are printed with numbered buttons; type a number to press a
 * button of the last message, or type text (also /commands) to send it. To
 * send a number as text (an income, say), start it with "=": =150000.
 *   npm run chat                 (Russian)
 *   npm run chat -- --lang kk    (Kazakh; en for English)
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Update } from 'grammy/types';
import { createDeps } from '../app.js';
import { createBot } from '../bot/create-bot.js';
import { FAKE_BOT_INFO, InProcessTelegram, type ApiCall } from '../bot/in-process-api.js';
import { isLang } from '../i18n/i18n.js';
import { createLogger } from '../log.js';

const { values } = parseArgs({ options: { lang: { type: 'string', default: 'ru' }, params: { type: 'string' } } });
if (!isLang(values.lang)) {
  console.error(`--lang: expected kk, ru or en, got ${values.lang}`);
  process.exit(2);
}
const lang = values.lang;

const telegram = new InProcessTelegram();
const deps = createDeps({ prefix: 'demo:', dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'demo-salt', paramsFile: values.params });
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

telegram.onCall = (call: ApiCall) => {
  const p = call.payload;
  if (call.method === 'sendMessage') {
    sent++;
    console.log(`\n🤖 ${String(p.text)}`);
    const rows = (p.reply_markup as { inline_keyboard?: { text: string; callback_data: string }[][] } | undefined)?.inline_keyboard;
    if (rows?.length) {
      const id = (call.result as { message_id: number } | undefined)?.message_id ?? 0;
      buttons = rows.flat().map((b) => ({ text: b.text, data: b.callback_data, messageId: id }));
      console.log(buttons.map((b, i) => `  [${i + 1}] ${b.text}`).join('\n'));
    }
  } else if (call.method === 'answerCallbackQuery' && p.text) {
    console.log(`\n💬 ${String(p.text)}`);
  }
};

function textUpdate(text: string): Update {
  const entities = text.startsWith('/') ? [{ type: 'bot_command' as const, offset: 0, length: text.split(/\s/)[0]!.length }] : undefined;
  return { update_id: updateId++, message: { message_id: messageId++, date: Math.floor(Date.now() / 1000), chat, from: user, text, entities } };
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
  const button = /^\d+$/.test(input) ? buttons[Number(input) - 1] : undefined;
  if (/^\d+$/.test(input) && !button) {
    console.log(`\n(no button ${input}: to send a number as text, type =${input})`);
    return;
  }
  if (button) {
    console.log(`\n👤 [${button.text}]`);
    await bot.handleUpdate(pressUpdate(button));
    return;
  }
  const text = input.startsWith('=') ? input.slice(1).trim() : input;
  console.log(`\n👤 ${text}`);
  await bot.handleUpdate(textUpdate(text));
}

console.log(`Qamqor terminal demo (${lang}). Type the number of a button, or a message (=123 sends a number as text). /help lists commands; Ctrl+D quits.`);
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
