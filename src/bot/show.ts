/** Sending screens: one message each, and the keyboard of the previous screen removed so old buttons do not tempt. */
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

export async function showState(ctx: BotContext, snapshot: ScreeningSnapshot): Promise<void> {
  await sendScreens(ctx, ctx.deps.renderer.render(snapshot, ctx.t));
}

async function removeLastKeyboard(ctx: BotContext): Promise<void> {
  const id = ctx.session.lastKeyboardMessageId;
  if (!id || !ctx.chat) return;
  ctx.session.lastKeyboardMessageId = undefined;
  // A message too old to edit, or already edited, is fine to leave as it is: its buttons are recognised as old.
  await ctx.api.editMessageReplyMarkup(ctx.chat.id, id, { reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
}
