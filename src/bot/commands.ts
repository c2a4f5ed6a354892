/** The command menu, in each language (Telegram shows the one matching the user's app language). */
import type { Api } from 'grammy';
import { LANGS, type Lang } from '../engine/types.js';
import type { Translator } from '../i18n/i18n.js';

const COMMANDS = ['start', 'help', 'language', 'restart', 'forget'] as const;

/** Families' menu; with referrals, "/status" (what is happening with my request) joins it. */
export async function setCommandMenus(api: Api, translator: Translator, opts: { referrals?: boolean } = {}): Promise<void> {
  const scope = { type: 'all_private_chats' } as const;
  for (const lang of LANGS) {
    const commands = COMMANDS.map((command) => ({ command: command as string, description: translator.t(lang, `commands.${command}`) }));
    if (opts.referrals) commands.splice(commands.length - 1, 0, { command: 'status', description: translator.t(lang, 'referral:commands.status') });
    await api.setMyCommands(commands, { scope, language_code: lang });
    // Russian is the menu for everyone whose app language is neither Kazakh nor English.
    if (lang === 'ru') await api.setMyCommands(commands, { scope });
  }
}

/** A linked worker's own menu, in their chat only: their referrals and the language. */
export async function setWorkerMenu(api: Api, translator: Translator, userId: number, lang: Lang): Promise<void> {
  const commands = [
    { command: 'referrals', description: translator.t(lang, 'referral:commands.referrals') },
    { command: 'language', description: translator.t(lang, 'commands.language') },
  ];
  await api.setMyCommands(commands, { scope: { type: 'chat', chat_id: userId } });
}
