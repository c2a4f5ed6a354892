/**
 * `npm start` with a bad setting refuses to start: a non-zero exit and one
 * line naming the variable, no stack trace. And when Telegram stops the long
 * polling for good (409: another instance uses the token), the bot says so in
 * its log and exits non-zero instead of dying of an unhandled rejection.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type RunResult } from '../helpers/bot-process.js';
import { FakeTelegram, freeLoopbackPort } from '../helpers/fake-telegram.js';

const TOKEN = '123456789:AAEabcdefghijklmnopqrstuvwxyz012345';

/** `npm start`, with npm's own chatter silenced so only the bot speaks. */
const npmStart = (env: Record<string, string>) => run('npm', ['start', '--silent'], env);
/** What `npm start` runs, without npm and the tsx wrapper process (half the start-up cost). */
const nodeStart = (env: Record<string, string>) => run(process.execPath, ['--import', 'tsx', 'src/main.ts'], env);

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

function expectRefusal(r: RunResult, variable: string): void {
  expect(r.signal).toBeNull();
  expect(r.code).not.toBe(0);
  expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^${variable}: `))]);
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m); // no stack trace
}

describe.concurrent('npm start refuses bad settings', () => {
  it('without BOT_TOKEN', async () => {
    expectRefusal(await npmStart({ LOG_LEVEL: 'silent' }), 'BOT_TOKEN');
  });

  it('in production without REDIS_URL', async () => {
    expectRefusal(await npmStart({ NODE_ENV: 'production', BOT_TOKEN: TOKEN, LOG_SALT: 'e2e-test-salt', LOG_LEVEL: 'silent' }), 'REDIS_URL');
  });
});

describe.concurrent('npm start against the Telegram emulator', () => {
  let telegram: FakeTelegram;
  beforeAll(async () => {
    telegram = await FakeTelegram.start();
  });
  afterAll(async () => {
    await telegram?.stop();
  });

  it('refuses a PORT that is already taken, in one line', async () => {
    const blocker: Server = createServer();
    const port = await freeLoopbackPort();
    await new Promise<void>((resolve, reject) => blocker.once('error', reject).listen(port, '127.0.0.1', resolve));
    try {
      const r = await nodeStart({ BOT_TOKEN: telegram.newToken(), TELEGRAM_API_ROOT: telegram.apiRoot, PORT: String(port), LOG_LEVEL: 'silent' });
      expectRefusal(r, 'PORT');
      expect(r.stderr).toContain(String(port));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('exits non-zero with a log line when another instance polls with the same token (409)', async () => {
    const token = telegram.newToken();
    telegram.conflict(token);
    const r = await nodeStart({ BOT_TOKEN: token, TELEGRAM_API_ROOT: telegram.apiRoot, PORT: String(await freeLoopbackPort()), LOG_LEVEL: 'warn' });
    expect(r.code).toBe(1);
    const fatal = r.stdout.split('\n').filter((l) => l.includes('"level":60'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain('long polling stopped');
    expect(fatal[0]).toContain('409');
    expect(r.stderr.trim()).toBe(''); // no unhandled rejection, no stack trace
  });
});
