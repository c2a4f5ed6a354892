/** Dated values in force, and run-time values laid over the files' (src/engine/params.ts). */
import { describe, expect, it } from 'vitest';
import { mergeParams, overlayParams, valueInForce } from '../../src/engine/params.js';
import type { DatedValue, Params } from '../../src/engine/types.js';

const v = (from: string, value: number, extra: Partial<DatedValue> = {}): DatedValue => ({ from, value, reference: `ref ${value}`, verified: false, ...extra });
const file: Params = { poverty_line_kzt: { astana: [v('2025-01-01', 30000), v('2026-04-01', 42000)], almaty: [v('2026-01-01', 38000)] } };

describe('overlayParams', () => {
  it('a value set for a new date joins the file’s: each date keeps the latest value from on or before it', () => {
    const out = overlayParams(file, { poverty_line_kzt: { astana: [v('2026-01-01', 45000, { verified: true })] } });
    const on = (date: string) => valueInForce(out, 'poverty_line_kzt', 'astana', date)?.value;
    expect([on('2025-06-01'), on('2026-01-01'), on('2026-03-31'), on('2026-04-01')]).toEqual([30000, 45000, 45000, 42000]);
    expect(valueInForce(out, 'poverty_line_kzt', 'almaty', '2026-06-01')?.value).toBe(38000);
  });

  it('a value set for the same date as the file’s wins over it', () => {
    const out = overlayParams(file, { poverty_line_kzt: { astana: [v('2026-04-01', 43000, { verified: true })] } });
    expect(out.poverty_line_kzt!.astana!.map((x) => x.value)).toEqual([30000, 43000]);
    expect(valueInForce(out, 'poverty_line_kzt', 'astana', '2026-05-01')).toMatchObject({ value: 43000, verified: true });
  });

  it('a region or parameter the files lack is added; the inputs are not changed', () => {
    const before = JSON.stringify(file);
    const out = overlayParams(file, { poverty_line_kzt: { shymkent: [v('2026-01-01', 36000)] }, other: { astana: [v('2026-01-01', 1)] } });
    expect(valueInForce(out, 'poverty_line_kzt', 'shymkent', '2026-02-01')?.value).toBe(36000);
    expect(out.other!.astana).toHaveLength(1);
    expect(JSON.stringify(file)).toBe(before);
  });

  it('differs from mergeParams, which replaces a region’s whole list (a PARAMS_FILE over parameters.yaml)', () => {
    const over: Params = { poverty_line_kzt: { astana: [v('2026-01-01', 45000)] } };
    expect(valueInForce(mergeParams(file, over), 'poverty_line_kzt', 'astana', '2025-06-01')).toBeUndefined();
    expect(valueInForce(overlayParams(file, over), 'poverty_line_kzt', 'astana', '2025-06-01')?.value).toBe(30000);
  });

  it('an empty overlay leaves the values as they are', () => {
    expect(overlayParams(file, {})).toEqual(file);
  });
});
