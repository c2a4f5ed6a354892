/** Sending screens: one message each, and the keyboard of the previous screen removed so old buttons do not tempt. */
import { InlineKeyboard } from 'grammy';
import type { InlineKeyboardButton } from 'grammy/types';
import type { BotContext } from './context.js';
import type { Screen } from './screens.js';
import type { ScreeningSnapshot } from '../runtime/dialog-host.js';

export async function sendScreens(ctx: BotContext, screens: Screen[]): Promise<void> {
  await removeLastKeyboard(ctx);
  for (const screen of screens) {
    const sent = await ctx.reply(screen.text, screen.keyboard ? { reply_markup: screen.keyboard } : {});
    if (screen.keyboard) ctx.session.lastKeyboardMessageId = sent.message_id;
  }
}

export interface ShowOptions {
  /** A kind word before the screen: why the bot could not use what was sent. */
  note?: string;
  /** End with the safety net line (the numbers); the screen itself carries the "I am not safe" button. */
  net?: boolean;
  /** Buttons above the first screen's own (a typed number to confirm: "Yes, 60 000 ₸" / "No, type again"). */
  rows?: InlineKeyboardButton[][];
}

export async function showState(ctx: BotContext, snapshot: ScreeningSnapshot, opts: ShowOptions = {}): Promise<void> {
  const screens = ctx.deps.renderer.render(snapshot, ctx.t);
  if (opts.note) screens[0] = { ...screens[0]!, text: `${opts.note}\n\n${screens[0]!.text}` };
  if (opts.rows) screens[0] = { ...screens[0]!, keyboard: new InlineKeyboard([...opts.rows, ...(screens[0]!.keyboard?.inline_keyboard ?? [])]) };
  if (opts.net) {
    const last = screens.length - 1;
    screens[last] = { ...screens[last]!, text: `${screens[last]!.text}\n\n${ctx.deps.renderer.netLine(ctx.t)}` };
  }
  await sendScreens(ctx, screens);
}

/** The words of a message or its caption; undefined when there are none or a forged update carries something else. */
export function wordsOf(message: { text?: unknown; caption?: unknown } | undefined): string | undefined {
  const words = message?.text ?? message?.caption;
  return typeof words === 'string' ? words : undefined;
}

async function removeLastKeyboard(ctx: BotContext): Promise<void> {
  const id = ctx.session.lastKeyboardMessageId;
  if (!id || !ctx.chat) return;
  ctx.session.lastKeyboardMessageId = undefined;
  // A message too old to edit, or already edited, is fine to leave as it is: its buttons are recognised as old.
  await ctx.api.editMessageReplyMarkup(ctx.chat.id, id, { reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
}
