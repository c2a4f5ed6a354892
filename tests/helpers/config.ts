import { ConfigError, readConfig } from '../../src/config.js';

/** A well-formed bot token, so a test's settings are the only thing that can be wrong. */
export const TOKEN = '123456789:AAEabcdefghijklmnopqrstuvwxyz012345';

/** The lines a start with these settings would refuse (none: it starts). */
export function configProblems(env: Record<string, string>): string[] {
  try {
    readConfig({ BOT_TOKEN: TOKEN, ...env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.lines;
    throw error;
  }
}
