/** Reading a typed answer where buttons were offered: numbers and yes/no words in kk, ru and en. */
import type { InlineKeyboardButton } from 'grammy/types';
import type { FactDef, FactValue } from '../engine/types.js';
import type { T } from '../i18n/i18n.js';
import { plainText as normalise } from '../safety/normalise.js';
import { encode } from './callback-data.js';
import { groupDigits, isUnusual, numberKindOf, readNumber, type NumberRefusal } from './numbers.js';

const YES = new Set(['да', 'иә', 'ия', 'иа', 'йә', 'ие', 'yes', 'y', 'ok', 'ага', 'угу', 'конечно', 'әрине']);
const NO = new Set(['нет', 'жоқ', 'жок', 'no', 'n', 'не', 'неа']);
const DONT_KNOW = new Set(['не знаю', 'незнаю', 'білмеймін', 'билмеймин', 'білмеим', 'don t know', 'dont know', 'unknown']);

/** `unusual`: a number people rarely mean (an income of 500 tenge, 20 people), to confirm before it is taken. */
export type Typed = { ok: true; value: FactValue; unusual?: true } | { ok: false; reason: NumberRefusal | 'out_of_range' | 'not_understood' };

export function readTyped(def: FactDef, text: string, labels: Map<string, string> = new Map()): Typed {
  const plain = normalise(text);
  if (DONT_KNOW.has(plain) && def.type !== 'list') return { ok: true, value: 'unknown' };
  if (def.type === 'int') {
    // People: «3», never «2.5». Tenge: «150 000 тг», «60.000,50», «60к», «60 мың» (see numbers.ts).
    const read = readNumber(text, numberKindOf(def));
    if (!read.ok) return read;
    const n = read.value;
    if (n < (def.min ?? 0) || (def.max !== undefined && n > def.max)) return { ok: false, reason: 'out_of_range' };
    return isUnusual(def, n) ? { ok: true, value: n, unusual: true } : { ok: true, value: n };
  }
  if (def.type === 'yesno') {
    if (YES.has(plain)) return { ok: true, value: 'yes' };
    if (NO.has(plain)) return { ok: true, value: 'no' };
    return { ok: false, reason: 'not_understood' };
  }
  if (def.type === 'enum') {
    // The family may type the name of an option shown on a button.
    for (const [value, label] of labels) if (normalise(label) === plain) return { ok: true, value };
    if (def.values?.includes(plain)) return { ok: true, value: plain };
  }
  return { ok: false, reason: 'not_understood' };
}

/** The kind word for a typed answer the bot could not take, with an example of what to type. */
export function refusalNote(t: T, def: FactDef, reason: Exclude<Typed, { ok: true }>['reason']): string {
  const money = def.type === 'int' && numberKindOf(def) === 'money';
  switch (reason) {
    case 'out_of_range':
      return t('errors.outOfRange', { min: groupDigits(def.min ?? 0), max: def.max === undefined ? '' : groupDigits(def.max) });
    case 'negative':
      return t(money ? 'numbers.negativeMoney' : 'numbers.negative');
    case 'not_whole':
      return t('numbers.whole');
    case 'words':
      return t(money ? 'numbers.wordsMoney' : 'numbers.words');
    case 'not_a_number':
      return t(money ? 'numbers.notAnAmount' : 'errors.notANumber');
    case 'not_understood':
      return t('errors.useButtons');
  }
}

/**
 * An unusual number echoed back for one tap: "Did you mean 60 000 ₸?", with
 * "Yes" (an answer button carrying the value, for the current step) and
 * "No, type again" (shows the question again).
 */
export function confirmNumber(t: T, def: FactDef, value: number, step: number): { note: string; rows: InlineKeyboardButton[][] } {
  const money = numberKindOf(def) === 'money';
  const shown = money ? t('numbers.amount', { amount: groupDigits(value) }) : groupDigits(value);
  return {
    note: money ? t('numbers.confirmMoney', { value: shown }) : t('numbers.confirmCount', { value: shown }),
    rows: [
      [{ text: t('numbers.yes', { value: shown }), callback_data: encode(step, { kind: 'event', event: { type: 'ANSWER', value } }) }],
      [{ text: t('numbers.no'), callback_data: encode(step, { kind: 'continue' }) }],
    ],
  };
}
