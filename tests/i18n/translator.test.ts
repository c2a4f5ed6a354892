/**
 * The translator's memo (src/i18n/i18n.ts): texts whose variables are small counts are
 * made once, and still come out right for every count; any other variable (an amount,
 * a name) is interpolated every time and never kept.
 */
import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../src/i18n/i18n.js';

describe('the translator', () => {
  const translator = createTranslator();

  it('gives each count its own text, the same on every call, in each language', () => {
    const ru = [translator.t('ru', 'question.progress', { n: 1, total: 12 }), translator.t('ru', 'question.progress', { n: 2, total: 12 })];
    expect(ru).toEqual(['Вопрос 1, всего около 12', 'Вопрос 2, всего около 12']);
    expect(translator.t('ru', 'question.progress', { n: 2, total: 12 })).toBe(ru[1]);
    expect(translator.t('kk', 'question.progress', { n: 2, total: 12 })).not.toBe(ru[1]);
    expect(translator.bind('ru')('question.progress', { total: 12, n: 2 })).toBe(ru[1]);
  });

  it('interpolates large numbers and text variables every time', () => {
    expect(translator.t('ru', 'question.progress', { n: 1500, total: 2000 })).toBe('Вопрос 1500, всего около 2000');
    expect(translator.t('ru', 'question.progress', { n: 1501, total: 2000 })).toBe('Вопрос 1501, всего около 2000');
    expect(translator.t('ru', 'question.progress', { n: 'три', total: 12 })).toBe('Вопрос три, всего около 12');
    expect(translator.t('ru', 'question.progress', { n: 'четыре', total: 12 })).toBe('Вопрос четыре, всего около 12');
  });
});
