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
  // and a summary screen needs about a hundred of them).
  const fixed: Record<string, Map<string, string>> = {};
  const cached = (lang: Lang, key: string, vars?: Vars) => {
    if (vars) return t(lang, key, vars);
    const memo = (fixed[lang] ??= new Map());
    let text = memo.get(key);
    if (text === undefined) memo.set(key, (text = t(lang, key)));
    return text;
  };
  return {
    t: cached,
    bind: (lang) => (key, vars) => cached(lang, key, vars),
    has: (lang, key) => instance.exists(key, { lng: lang }),
    usedKeys,
  };
}

export function isLang(x: unknown): x is Lang {
  return typeof x === 'string' && (LANGS as readonly string[]).includes(x);
}
