/** What an admin writes after /params, read into a request or a precise error (src/params/command.ts). */
import { describe, expect, it } from 'vitest';
import { effectOf, MAX_VALUE_KZT, readParamsCommand } from '../../src/params/command.js';
import type { Params } from '../../src/engine/types.js';

const known = { params: ['poverty_line_kzt'], regions: ['astana', 'almaty', 'shymkent'] };
const read = (text: string) => readParamsCommand(text, known);

describe('readParamsCommand', () => {
  it('nothing after /params: show the values in force', () => {
    expect(read('')).toEqual({ kind: 'show' });
    expect(read('   ')).toEqual({ kind: 'show' });
  });

  it('the issue’s example: a dated value, not verified unless the admin says so', () => {
    expect(read('poverty_line_kzt astana 2026-01-01 45000 "Akimat decision No. 12 of 05.01.2026"')).toEqual({
      kind: 'set',
      change: { param: 'poverty_line_kzt', region: 'astana', from: '2026-01-01', value: 45000, reference: 'Akimat decision No. 12 of 05.01.2026', verified: false },
    });
    expect(read('poverty_line_kzt astana 2026-01-01 45000 "Akimat decision" verified')).toMatchObject({ kind: 'set', change: { verified: true } });
    expect(read('poverty_line_kzt astana 2026-01-01 45000 "Akimat decision" VERIFIED')).toMatchObject({ kind: 'set', change: { verified: true } });
  });

  it.each([
    ['“Решение акимата № 5”', 'Решение акимата № 5'],
    ['«Әкімдік шешімі № 5»', 'Әкімдік шешімі № 5'],
    ['„Решение № 5“', 'Решение № 5'],
  ])('quotes as phones type them: %s', (quoted, reference) => {
    expect(read(`poverty_line_kzt almaty 2026-04-01 38000 ${quoted}`)).toMatchObject({ kind: 'set', change: { reference } });
  });

  it.each([
    ['poverty_line_kzt astana', 'errors.usage'],
    ['poverty_line astana 2026-01-01 45000 "ref"', 'errors.unknownParam'],
    ['poverty_line_kzt nursultan 2026-01-01 45000 "ref"', 'errors.unknownRegion'],
    ['poverty_line_kzt Astana 2026-01-01 45000 "ref"', 'errors.unknownRegion'],
    ['poverty_line_kzt astana 2026-02-30 45000 "ref"', 'errors.badDate'],
    ['poverty_line_kzt astana 01.01.2026 45000 "ref"', 'errors.badDate'],
    ['poverty_line_kzt astana 2026-01-01 -45000 "ref"', 'errors.badValue'],
    ['poverty_line_kzt astana 2026-01-01 0 "ref"', 'errors.badValue'],
    ['poverty_line_kzt astana 2026-01-01 45000.5 "ref"', 'errors.badValue'],
    ['poverty_line_kzt astana 2026-01-01 45k "ref"', 'errors.badValue'],
    [`poverty_line_kzt astana 2026-01-01 ${MAX_VALUE_KZT + 1} "ref"`, 'errors.badValue'],
    ['poverty_line_kzt astana 2026-01-01 45000', 'errors.noReference'],
    ['poverty_line_kzt astana 2026-01-01 45000 akimat decision', 'errors.noReference'],
    ['poverty_line_kzt astana 2026-01-01 45000 "unclosed', 'errors.noReference'],
    ['poverty_line_kzt astana 2026-01-01 45000 "ab"', 'errors.referenceLength'],
    [`poverty_line_kzt astana 2026-01-01 45000 "${'x'.repeat(301)}"`, 'errors.referenceLength'],
    ['poverty_line_kzt astana 2026-01-01 45000 "ref ok" yes please', 'errors.trailing'],
  ])('%s → %s', (text, error) => {
    expect(read(text)).toMatchObject({ kind: 'error', error });
  });

  it('an error names what was wrong and what is allowed', () => {
    expect(read('poverty_line_kzt nursultan 2026-01-01 45000 "ref"')).toMatchObject({ vars: { region: 'nursultan', known: 'astana, almaty, shymkent' } });
    expect(read('poverty_line_kzt astana 2026-01-01 -5 "ref"')).toMatchObject({ vars: { value: '-5', max: MAX_VALUE_KZT } });
  });
});

describe('effectOf: what a change does, for the confirm message', () => {
  const line = (from: string, value: number) => ({ from, value, reference: 'r', verified: false });
  const params: Params = { poverty_line_kzt: { astana: [line('2025-01-01', 30000), line('2026-04-01', 42000)] } };
  const change = (from: string) => ({ param: 'poverty_line_kzt', region: 'astana', from, value: 45000, reference: 'r', verified: false });

  it('a new date: the value in force before it, and the later value that still takes over', () => {
    expect(effectOf(params, change('2026-01-01'))).toEqual({ before: line('2025-01-01', 30000), replaces: undefined, until: line('2026-04-01', 42000) });
  });
  it('the same date: the value it replaces', () => {
    expect(effectOf(params, change('2026-04-01'))).toMatchObject({ replaces: line('2026-04-01', 42000), until: undefined });
  });
  it('a region with no values: nothing before, nothing after', () => {
    expect(effectOf(params, { ...change('2026-01-01'), region: 'almaty' })).toEqual({ before: undefined, replaces: undefined, until: undefined });
  });
});
