import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, EXPORT_COLUMNS } from '../../src/referral/export.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { NOTE, packet, PHONE, T0 } from './fixtures.js';
import { makeHarness, USER } from './harness.js';

const prefix = uniquePrefix('test:refexport');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

/** RFC 4180 rows (quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    } else cell += c;
  }
  return rows;
}

describe('CSV cells', () => {
  it('quote commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(12)).toBe('12');
  });

  it('defuse formulas: a cell starting with = + - @ tab or CR is prefixed with an apostrophe', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+7 701 123')).toBe("'+7 701 123");
    expect(csvCell('-1+1')).toBe("'-1+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('\r=1')).toBe(`"'\r=1"`);
  });
});

describe('referral export', () => {
  it('has routing keys, statuses and times only: no names, phones, notes or free text', async () => {
    const h = await makeHarness('redis', redis, prefix);
    const as = (w: keyof typeof USER) => ({ kind: 'user', userId: USER[w] }) as const;
    const done = (await h.service.create({ packet: packet(), familyChatId: 700_000_200, source: 'family', actor: { kind: 'family' } })).referral;
    h.clock.now = T0 + 15 * 60_000;
    await h.service.act(done.id, as('w-ast-1'), { type: 'ACCEPT' });
    h.clock.now = T0 + 3 * 3_600_000;
    await h.service.act(done.id, as('w-ast-1'), { type: 'COMPLETE', outcome: 'services_assigned' });
    const declined = (await h.service.create({ packet: packet({ urgent: true, district: 'yesil', note: '+77017654321 call after 6' }), source: 'operator', actor: { kind: 'operator', userId: 1 } })).referral;
    await h.service.act(declined.id, as('w-ast-1'), { type: 'DECLINE', reason: 'not_my_territory' });
    await h.service.forgetFamily(700_000_200);

    const csv = await h.service.exportCsv();
    for (const secret of [PHONE, '+77017654321', NOTE, '=cmd', 'Asel', 'Abai', 'call after', 'C7K3QX', '700000200']) expect(csv).not.toContain(secret);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...EXPORT_COLUMNS]);
    const byId = new Map(rows.slice(1).map((r) => [r[0], Object.fromEntries(EXPORT_COLUMNS.map((c, i) => [c, r[i]]))]));
    expect(byId.get(done.id)).toEqual({
      id: done.id,
      created: new Date(T0).toISOString(),
      region: 'astana',
      district: '',
      profile: 'assessment',
      lang: 'kk',
      urgent: 'false',
      source: 'family',
      status: 'completed',
      outcome: 'services_assigned',
      decline_reason: '',
      minutes_to_ack: '15',
      minutes_to_close: '180',
    });
    expect(byId.get(declined.id)).toMatchObject({ status: 'requested', decline_reason: 'not_my_territory', district: 'yesil', urgent: 'true', minutes_to_close: '' });
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('takes a time window [from, to)', async () => {
    const h = await makeHarness('memory', undefined, prefix);
    const a = (await h.service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } })).referral;
    h.clock.now = T0 + 1000;
    const b = (await h.service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } })).referral;
    const ids = (csv: string) => parseCsv(csv).slice(1).map((r) => r[0]);
    expect(ids(await h.service.exportCsv(T0, T0 + 1000))).toEqual([a.id]);
    expect(ids(await h.service.exportCsv(T0 + 1000))).toEqual([b.id]);
  });
});
