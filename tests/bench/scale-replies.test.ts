/** The scale bench's reply counting (bench/scale-replies.ts): which update a Bot API call answers. */
import { describe, expect, it } from 'vitest';
import { ReplyCounter, screenStep } from '../../bench/scale-replies.js';

const screen = (chatId: number, step: number) => ({ chat_id: chatId, text: 'q', reply_markup: { inline_keyboard: [[{ text: 'Нет', callback_data: `${step}|a:no` }]] } });

describe('bench reply counting', () => {
  it('reads the step off a screen’s first payload, and none off a message without buttons', () => {
    expect(screenStep(screen(1, 7).reply_markup)).toBe(7);
    expect(screenStep({ inline_keyboard: [[{ text: 'x', url: 'https://example.org' }], [{ text: 'y', callback_data: '12|sk' }]] })).toBe(12);
    expect(screenStep(undefined)).toBeUndefined();
  });

  it('resolves the waiting update with its own screen only, and counts a second screen of a step as twice', async () => {
    const c = new ReplyCounter();
    const reply = c.waitFor(5, 3, 1_000);
    c.record('sendMessage', screen(5, 2), 1); // an older step: not this update's screen
    c.record('sendMessage', screen(6, 3), 2); // another chat
    c.record('sendMessage', screen(5, 3), 3);
    expect(await reply).toBe(3);
    expect(c.twice()).toEqual({ screens: 0, callbacks: 0 });
    c.record('sendMessage', screen(5, 3), 4); // the redelivered copy handled again
    expect(c.repliesTo(5, 3)).toBe(2);
    expect(c.twice().screens).toBe(1);
  });

  it('counts callback answers by id, ignores edits of the pressed message, and counts notices apart', async () => {
    const c = new ReplyCounter();
    c.record('answerCallbackQuery', { callback_query_id: '9' }, 1);
    c.record('answerCallbackQuery', { callback_query_id: '9' }, 2);
    c.record('editMessageReplyMarkup', { chat_id: 5, message_id: 1, reply_markup: screen(5, 1).reply_markup }, 3);
    c.record('sendMessage', { chat_id: 5, text: 'Something went wrong' }, 4);
    expect(c.twice()).toEqual({ screens: 0, callbacks: 1 });
    expect(c.other).toBe(1);
    expect(await c.waitFor(5, 1, 10)).toBeUndefined(); // lost: nothing came
  });
});
