/** The command menu, in each language (Telegram shows the one matching the user's app language). */
import type { Api } from 'grammy';
import { LANGS } from '../engine/types.js';
import type { Translator } from '../i18n/i18n.js';

const COMMANDS = ['start', 'help', 'language', 'restart', 'forget'] as const;

export async function setCommandMenus(api: Api, translator: Translator): Promise<void> {
  const scope = { type: 'all_private_chats' } as const;
  for (const lang of LANGS) {
    const commands = COMMANDS.map((command) => ({ command, description: translator.t(lang, `commands.${command}`) }));
    await api.setMyCommands(commands, { scope, language_code: lang });
    // Russian is the menu for everyone whose app language is neither Kazakh nor English.
    if (lang === 'ru') await api.setMyCommands(commands, { scope });
  }
}
