/**
 * Numbers as people type them: «2» people, «60 000», «60.000,50», «60к»,
 * «60 мың теңге», «1,5 млн». Pure; the words around the number are in the
 * locales (the `numbers` group).
 *
 * A count of people is a whole number: «2.5» and «2,5» are refused (never read
 * as 25). An amount of money drops its tiyn («60.000,50» is 60 000) and reads
 * «к», «т», «тыс», «тысяч», «мың» as thousands and «млн», «миллион» as millions.
 */
import type { FactDef } from '../engine/types.js';

export type NumberKind = 'count' | 'money';

export type ReadNumber = { ok: true; value: number } | { ok: false; reason: NumberRefusal };
/** negative: «-5»; not_whole: «2.5» people; words: no digits at all («сто тысяч», «бес»); not_a_number: digits we cannot read. */
export type NumberRefusal = 'negative' | 'not_whole' | 'words' | 'not_a_number';

/** Amounts are facts in tenge (`…_kzt`); every other number is a count of people. */
export function numberKindOf(def: Pick<FactDef, 'id'>): NumberKind {
  return def.id.endsWith('_kzt') ? 'money' : 'count';
}

const MINUS = /^(?:[-−–—]|минус(?=[\s\d]))\s*/u;
const THOUSAND = new Set(['к', 'k', 'т', 'тыс', 'тысяч', 'тысяча', 'тысячи', 'тыщ', 'тыщи', 'мың', 'мын']);
const MILLION = new Set(['млн', 'миллион', 'миллиона', 'миллионов', 'mln']);
/** What may follow an amount: a multiplier, the currency, "a month"; each optional, in this order. */
const MONEY_TAIL =
  /^(?:(к|k|т|тыс|тысяч|тысяча|тысячи|тыщ|тыщи|мың|мын|млн|миллион|миллиона|миллионов|mln)\.?)?\s*(?:(?:тг|тенге|теңге|₸|kzt|tg|tenge)\.?)?\s*(?:(?:в\s+месяц|в\s+мес|айына|\/\s*мес)\.?)?[\s.!]*$/u;

/** Reads a typed number of people (`count`) or of tenge (`money`). Range checks are the caller's. */
export function readNumber(text: string, kind: NumberKind): ReadNumber {
  let s = text.normalize('NFC').toLowerCase().replace(/\s+/gu, ' ').trim();
  if (!/\d/.test(s)) return { ok: false, reason: /\p{L}/u.test(s) ? 'words' : 'not_a_number' };
  if (kind === 'money') s = s.replace(/^₸\s*/u, '');
  const minus = MINUS.exec(s);
  if (minus) return /^\d/.test(s.slice(minus[0].length)) ? { ok: false, reason: 'negative' } : { ok: false, reason: 'not_a_number' };
  const m = /^(\d[\d .,'’_]*)(.*)$/u.exec(s);
  if (!m) return { ok: false, reason: 'not_a_number' };
  // Separators at the end belong to the sentence («3.», «60 000, »), not to the number.
  const digits = m[1]!.replace(/[ .,'’_]+$/u, '');
  const tail = (m[1]!.slice(digits.length) + m[2]!).trim();
  const parsed = parseDigits(digits);
  if (!parsed) return { ok: false, reason: 'not_a_number' };
  if (kind === 'count') {
    if (!/^[.!]*$/u.test(tail)) return { ok: false, reason: 'not_a_number' };
    if (parsed.fraction !== undefined) return { ok: false, reason: 'not_whole' };
    return { ok: true, value: parsed.whole };
  }
  const t = MONEY_TAIL.exec(tail);
  if (!t) return { ok: false, reason: 'not_a_number' };
  const multiplier = t[1] === undefined ? 1 : THOUSAND.has(t[1]) ? 1_000 : MILLION.has(t[1]) ? 1_000_000 : 1;
  // Integer arithmetic, so that «1,15 млн» is 1 150 000 and not 1 149 999; tiyn are dropped.
  const fraction = parsed.fraction ?? '';
  const value = parsed.whole * multiplier + Math.floor((Number(fraction || '0') * multiplier) / 10 ** fraction.length);
  return { ok: true, value };
}

/**
 * Digits with group separators (space, dot, comma, apostrophe, underscore) and
 * at most one decimal separator followed by 1–2 digits. With both a dot and a
 * comma, the last one is the decimal separator («60.000,50», «60,000.50»); with
 * one of them once, 3 digits after it mean thousands («150.000») and 1–2 mean a
 * fraction («2.5», «60000,50»). Groups after the first have exactly 3 digits,
 * so «2 3» is not 23.
 */
function parseDigits(raw: string): { whole: number; fraction?: string } | undefined {
  const s = raw.replace(/['’_]/g, ' ');
  const dots = count(s, '.');
  const commas = count(s, ',');
  let decimal: '.' | ',' | undefined;
  if (dots && commas) {
    decimal = s.lastIndexOf('.') > s.lastIndexOf(',') ? '.' : ',';
    if (count(s, decimal) > 1) return undefined;
  } else if (dots === 1 || commas === 1) {
    const sep = dots ? '.' : ',';
    const after = s.slice(s.indexOf(sep) + 1);
    if (/^\d{1,2}$/.test(after)) decimal = sep;
  }
  let whole = s;
  let fraction: string | undefined;
  if (decimal) {
    const at = s.lastIndexOf(decimal);
    fraction = s.slice(at + 1);
    whole = s.slice(0, at);
    if (!/^\d{1,2}$/.test(fraction)) return undefined;
  }
  const groups = whole.split(/[ .,]/);
  if (groups.some((g) => !/^\d+$/.test(g))) return undefined;
  if (groups.length > 1 && (groups[0]!.length > 3 || groups.slice(1).some((g) => g.length !== 3))) return undefined;
  const joined = groups.join('');
  if (joined.length > 12) return undefined;
  return { whole: Number(joined), fraction };
}

const count = (s: string, ch: string) => s.split(ch).length - 1;

/** Incomes and counts that people rarely mean: the bot asks once before taking them. */
export const UNUSUAL = { moneyBelow: 1_000, moneyAbove: 2_000_000, countAbove: 15 } as const;

/** A value to confirm before it is taken: an income of 1–999 or over 2 000 000 tenge a month, or more than 15 people. */
export function isUnusual(def: Pick<FactDef, 'id'>, value: number): boolean {
  if (numberKindOf(def) === 'money') return (value > 0 && value < UNUSUAL.moneyBelow) || value > UNUSUAL.moneyAbove;
  return value > UNUSUAL.countAbove;
}

/** Thousands grouped with spaces, as the family reads an amount: 60 000, 1 500 000. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}
