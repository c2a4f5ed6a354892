/**
 * i18next over locales/ (kk, ru, en). One instance for the process; `t` takes
 * the language per call, since one bot talks to many families at once.
 * Every key looked up is recorded so a test can prove each one exists in all languages.
 */
import i18next, { type i18n } from 'i18next';
import { LANGS, type Lang } from '../engine/types.js';
import { loadResources, type Resources } from './resources.js';

export type Vars = Record<string, string | number>;
export type T = (key: string, vars?: Vars) => string;

export interface Translator {
  t(lang: Lang, key: string, vars?: Vars): string;
  /** A `t` bound to one language. */
  bind(lang: Lang): T;
  has(lang: Lang, key: string): boolean;
  readonly usedKeys: Set<string>;
}

export function createTranslator(resources: Resources = loadResources()): Translator {
  const instance: i18n = i18next.createInstance();
  void instance.init({
    resources,
    lng: 'ru',
    fallbackLng: false,
    supportedLngs: [...LANGS],
    ns: Object.keys(resources.ru),
    defaultNS: 'bot',
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  const usedKeys = new Set<string>();
  const t = (lang: Lang, key: string, vars?: Vars) => {
    usedKeys.add(key.includes(':') ? key : `bot:${key}`);
    return instance.t(key, { lng: lang, ...vars }) as string;
  };
  // Texts without variables never change: look each up once per language (i18next costs µs per call,
  // and a summary screen needs about a hundred of them). So do texts whose variables are only small
  // counts ("question 4 of about 12"): a few thousand of them at most, and nothing of a family's own
  // (amounts, names, dates) is kept.
  const fixed: Record<string, Map<string, string>> = {};
  const cached = (lang: Lang, key: string, vars?: Vars) => {
    const memoKey = vars ? countsKey(key, vars) : key;
    if (memoKey === undefined) return t(lang, key, vars);
    const memo = (fixed[lang] ??= new Map());
    let text = memo.get(memoKey);
    if (text === undefined) {
      if (memo.size >= MEMO_LIMIT) memo.clear(); // a bound, not an LRU: every text is cheap to make again
      memo.set(memoKey, (text = t(lang, key, vars)));
    }
    return text;
  };
  return {
    t: cached,
    bind: (lang) => (key, vars) => cached(lang, key, vars),
    has: (lang, key) => instance.exists(key, { lng: lang }),
    usedKeys,
  };
}

const MEMO_LIMIT = 20_000;
const SMALL_COUNT = 1000;

/** The memo key of a text whose variables are all small whole numbers (counts, positions); undefined for any other. */
function countsKey(key: string, vars: Vars): string | undefined {
  let memoKey = key;
  for (const name in vars) {
    const value = vars[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= SMALL_COUNT) return undefined;
    memoKey += `\u0000${name}=${value}`;
  }
  return memoKey;
}

export function isLang(x: unknown): x is Lang {
  return typeof x === 'string' && (LANGS as readonly string[]).includes(x);
}
