/**
 * Danger cues in free text (SPEC §7). Text is normalised first: Kazakh and
 * Russian typed on Latin keyboards or with look-alike letters (seed 001 uses
 * Latin ə for Cyrillic ә) must still be heard.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

export const CUES_FILE = new URL('../../flows/catalogue/danger-cues.yaml', import.meta.url).pathname;

/** Latin letters that look like Cyrillic ones, mapped to them; only used inside words that also hold Cyrillic. */
const LOOK_ALIKES: Record<string, string> = {
  a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', k: 'к', m: 'м', t: 'т', h: 'н', b: 'в', i: 'і', ə: 'ә', ö: 'ө', ü: 'ү', u: 'ұ', n: 'п',
};

export function normalise(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFC')
    .replace(/ё/g, 'е')
    .replace(/[\p{L}]+/gu, (word) => (/[\u0400-\u04ff]/.test(word) ? [...word].map((ch) => LOOK_ALIKES[ch] ?? ch).join('') : word))
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Kazakh letters folded to the Russian ones people type when their keyboard lacks them. */
const KAZAKH_FOLD: Record<string, string> = { ә: 'а', ғ: 'г', қ: 'к', ң: 'н', ө: 'о', ұ: 'у', ү: 'у', һ: 'х', і: 'и' };
const fold = (text: string) => [...text].map((ch) => KAZAKH_FOLD[ch] ?? ch).join('');

const cuesSchema = z.record(z.string(), z.array(z.string().min(2)));

export class DangerCues {
  private readonly cues: string[];

  constructor(lists: Record<string, string[]>) {
    this.cues = [...new Set(Object.values(lists).flat().map((cue) => fold(normalise(cue))))];
  }

  static load(path = CUES_FILE): DangerCues {
    return new DangerCues(cuesSchema.parse(parse(readFileSync(path, 'utf8'))));
  }

  /** True when the text holds a cue at the start of a word. */
  matches(text: string): boolean {
    const padded = ` ${fold(normalise(text))}`;
    return this.cues.some((cue) => padded.includes(` ${cue}`));
  }
}
