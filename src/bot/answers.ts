/** Reading a typed answer where buttons were offered: numbers and yes/no words in kk, ru and en. */
import type { FactDef, FactValue } from '../engine/types.js';
import { plainText as normalise } from '../safety/normalise.js';

const YES = new Set(['да', 'иә', 'ия', 'иа', 'йә', 'ие', 'yes', 'y', 'ok', 'ага', 'угу', 'конечно', 'әрине']);
const NO = new Set(['нет', 'жоқ', 'жок', 'no', 'n', 'не', 'неа']);
const DONT_KNOW = new Set(['не знаю', 'незнаю', 'білмеймін', 'билмеймин', 'білмеим', 'don t know', 'dont know', 'unknown']);

export type Typed = { ok: true; value: FactValue } | { ok: false; reason: 'not_a_number' | 'out_of_range' | 'not_understood' };

export function readTyped(def: FactDef, text: string, labels: Map<string, string> = new Map()): Typed {
  const plain = normalise(text);
  if (DONT_KNOW.has(plain) && def.type !== 'list') return { ok: true, value: 'unknown' };
  if (def.type === 'int') {
    // "150 000", "150000 тг", "150.000 ₸" — digits with spaces or separators, an optional currency word.
    const digits = text.replace(/(тг|тенге|теңге|₸|kzt)\.?/giu, '').replace(/[\s.,'’_]/g, '');
    if (!/^\d{1,12}$/.test(digits)) return { ok: false, reason: 'not_a_number' };
    const n = Number(digits);
    if (n < (def.min ?? 0) || (def.max !== undefined && n > def.max)) return { ok: false, reason: 'out_of_range' };
    return { ok: true, value: n };
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
