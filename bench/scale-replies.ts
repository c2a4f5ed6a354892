/**
 * Which update a Bot API call answers, for `bench/scale.ts`. One press of the
 * questionnaire makes three calls: answerCallbackQuery (its own callback id),
 * editMessageReplyMarkup (marks the pressed message) and sendMessage with the
 * next screen; /start makes the sendMessage alone. The sendMessage is the one
 * that changes what the family sees, so it is "the reply", and its buttons carry
 * the screen's step (`<step>|…`, src/bot/callback-data.ts): the reply to a
 * family's update number u (0 = /start) shows step u. So a reply is tied to its
 * update by content, also when a second copy is handled late, after the family
 * has moved on. Callback answers are counted by id too, as a second witness of
 * an update handled twice.
 */

export interface ReplyWaiter {
  chatId: number;
  step: number;
  resolve: (at: number) => void;
}

export class ReplyCounter {
  /** "<chat>:<step>" → screens of that step the chat received. */
  private readonly screens = new Map<string, number>();
  /** callback_query id → answerCallbackQuery calls. */
  private readonly callbacks = new Map<string, number>();
  private readonly waiting = new Map<string, ReplyWaiter>();
  /** Messages to a chat that are no screen of the questionnaire (an error notice, say). */
  other = 0;

  /** Feeds one Bot API call as the fake received it. */
  record(method: string, payload: Record<string, unknown>, at: number): void {
    if (method === 'answerCallbackQuery') {
      const id = String(payload.callback_query_id);
      this.callbacks.set(id, (this.callbacks.get(id) ?? 0) + 1);
      return;
    }
    if (method !== 'sendMessage' && method !== 'editMessageText') return;
    const chatId = Number(payload.chat_id);
    const step = screenStep(payload.reply_markup);
    // editMessageText without buttons is no screen of this flow; sendMessage without one is a notice.
    if (step === undefined) {
      if (method === 'sendMessage') this.other++;
      return;
    }
    const key = `${chatId}:${step}`;
    this.screens.set(key, (this.screens.get(key) ?? 0) + 1);
    const waiter = this.waiting.get(key);
    if (waiter) {
      this.waiting.delete(key);
      waiter.resolve(at);
    }
  }

  /** Resolves with the reply's time, or undefined after `timeoutMs` (lost). Register before posting the update. */
  waitFor(chatId: number, step: number, timeoutMs: number): Promise<number | undefined> {
    const key = `${chatId}:${step}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(key, {
        chatId,
        step,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  /** Screens the chat received for its update number `step`. */
  repliesTo(chatId: number, step: number): number {
    return this.screens.get(`${chatId}:${step}`) ?? 0;
  }

  /** Updates whose screen came more than once, and callback queries answered more than once. */
  twice(): { screens: number; callbacks: number } {
    let screens = 0;
    for (const n of this.screens.values()) if (n > 1) screens++;
    let callbacks = 0;
    for (const n of this.callbacks.values()) if (n > 1) callbacks++;
    return { screens, callbacks };
  }
}

/** The step of a screen from its inline keyboard's first `<step>|…` payload; undefined when it has none. */
export function screenStep(markup: unknown): number | undefined {
  const rows = (markup as { inline_keyboard?: { callback_data?: string }[][] } | undefined)?.inline_keyboard;
  for (const row of rows ?? []) {
    for (const button of row) {
      const m = /^(\d+)\|/.exec(button.callback_data ?? '');
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}
