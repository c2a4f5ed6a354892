/**
 * What an admin writes after /params, read into a request or a precise error:
 *   /params                                   → show the values in force today, by region
 *   /params <param> <region> <from> <value> "<reference>" [verified]
 * The value is a whole number of tenge; the reference is quoted ("…", “…” or «…», as phones
 * type them); `verified` at the end says a content owner has checked the value against the
 * reference (without it the value is marked not verified, the safe default of SPEC §6).
 */
import { isoDate } from '../catalogue/schema.js';
import { valueInForce } from '../engine/params.js';
import type { DatedValue, Params } from '../engine/types.js';
import type { ParamChange } from './store.js';

/** Above this a per-person monthly line is surely a typo (the 2026 subsistence minimum is 50,851 ₸). */
export const MAX_VALUE_KZT = 1_000_000;
const MAX_REFERENCE = 300;

export type ParamsRequest =
  | { kind: 'show' }
  | { kind: 'set'; change: ParamChange }
  /** `error`: a params: locale key; `vars` fill it. */
  | { kind: 'error'; error: string; vars?: Record<string, string | number> };

export interface Known {
  params: string[];
  regions: string[];
}

const QUOTES: Record<string, string> = { '"': '"', '“': '”', '«': '»', '„': '“' };

export function readParamsCommand(text: string, known: Known): ParamsRequest {
  const rest = text.trim();
  if (!rest) return { kind: 'show' };
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+([\s\S]*))?$/.exec(rest);
  if (!m) return { kind: 'error', error: 'errors.usage' };
  const [, param, region, from, valueText, tail = ''] = m as unknown as [string, string, string, string, string, string | undefined];
  if (!known.params.includes(param)) return { kind: 'error', error: 'errors.unknownParam', vars: { param, known: known.params.join(', ') } };
  if (!known.regions.includes(region)) return { kind: 'error', error: 'errors.unknownRegion', vars: { region, known: known.regions.join(', ') } };
  if (!isoDate.safeParse(from).success) return { kind: 'error', error: 'errors.badDate', vars: { date: from } };
  if (!/^\d+$/.test(valueText) || Number(valueText) <= 0 || Number(valueText) > MAX_VALUE_KZT) {
    return { kind: 'error', error: 'errors.badValue', vars: { value: valueText, max: MAX_VALUE_KZT } };
  }
  const quoted = readQuoted(tail.trim());
  if (!quoted) return { kind: 'error', error: 'errors.noReference' };
  const reference = quoted.text.trim();
  if (reference.length < 3 || reference.length > MAX_REFERENCE) return { kind: 'error', error: 'errors.referenceLength', vars: { max: MAX_REFERENCE } };
  const flag = quoted.after.trim();
  if (flag !== '' && flag.toLowerCase() !== 'verified') return { kind: 'error', error: 'errors.trailing', vars: { text: flag.slice(0, 40) } };
  return { kind: 'set', change: { param, region, from, value: Number(valueText), reference, verified: flag !== '' } };
}

function readQuoted(s: string): { text: string; after: string } | undefined {
  const close = QUOTES[s[0] ?? ''];
  if (!close) return undefined;
  const end = s.indexOf(close, 1);
  return end < 0 ? undefined : { text: s.slice(1, end), after: s.slice(end + 1) };
}

/** What a change does to the values in force, for the confirm message. */
export interface ChangeEffect {
  /** In force on the change's date before it (undefined: none). */
  before?: DatedValue;
  /** The value of the very same date that the change replaces. */
  replaces?: DatedValue;
  /** The next later value, which still takes over on its own date. */
  until?: DatedValue;
}

export function effectOf(params: Params, change: ParamChange): ChangeEffect {
  const values = params[change.param]?.[change.region] ?? [];
  const later = values.filter((v) => v.from > change.from).sort((a, b) => a.from.localeCompare(b.from));
  return {
    before: valueInForce(params, change.param, change.region, change.from),
    replaces: values.find((v) => v.from === change.from),
    until: later[0],
  };
}
