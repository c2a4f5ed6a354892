import { describe, expect, it } from 'vitest';
import { BotHarness } from '../helpers/bot-harness.js';

describe('family dialog (smoke)', () => {
  it('greets, takes consent and asks the first question; danger words bring the numbers at once', async () => {
    const h = new BotHarness();
    const f = h.family(1);
    await f.say('/start');
    expect(f.lastText).toMatch(/Здравствуйте/);
    await f.press('cs');
    expect(f.lastText).toMatch(/Вопрос 1/);
    const calls = await f.say('муж меня бьёт');
    const firstMessage = calls.find((c) => c.method === 'sendMessage')!;
    expect(String(firstMessage.payload.text)).toMatch(/112/);
  });
});
