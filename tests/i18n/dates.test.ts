import { describe, expect, it } from 'vitest';
import { formatDate } from '../../src/i18n/dates.js';

describe('formatDate', () => {
  it.each([
    ['2026-12-02', 'ru', '02.12.2026'],
    ['2026-12-02', 'kk', '2026 жылғы 2 желтоқсан'],
    ['2026-12-02', 'en', '2 December 2026'],
    ['2026-01-31', 'ru', '31.01.2026'],
    ['2026-01-31', 'kk', '2026 жылғы 31 қаңтар'],
    ['2026-09-05', 'kk', '2026 жылғы 5 қыркүйек'],
    ['2028-02-29', 'en', '29 February 2028'],
  ] as const)('%s in %s is %s', (iso, lang, text) => {
    expect(formatDate(iso, lang)).toBe(text);
  });

  it('names every month in Kazakh and English', () => {
    const months = (lang: 'kk' | 'en') => Array.from({ length: 12 }, (_, i) => formatDate(`2026-${String(i + 1).padStart(2, '0')}-01`, lang).replace(/^2026 жылғы 1 |^1 | 2026$/g, ''));
    expect(months('kk')).toEqual(['қаңтар', 'ақпан', 'наурыз', 'сәуір', 'мамыр', 'маусым', 'шілде', 'тамыз', 'қыркүйек', 'қазан', 'қараша', 'желтоқсан']);
    expect(new Set(months('en')).size).toBe(12);
  });

  it.each(['2026-13-01', '2026-02-30', '2027-02-29', '2026-1-2', '02.12.2026', '2026-12-02T10:00:00Z', ''])('refuses %j', (iso) => {
    expect(() => formatDate(iso, 'ru')).toThrow(RangeError);
  });
});
