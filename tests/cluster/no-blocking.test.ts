/**
 * Every store shares one connection per Redis node (src/store/redis.ts), so no
 * code may hold it with a blocking command: a blocked XREADGROUP on a cluster
 * would stall every other command to that node. The inbox and the outboxes poll.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');
/** Typed blocking commands, the BLOCK option of XREAD/XREADGROUP, and raw blocking commands. */
const BLOCKING = /\.(blPop|brPop|blMove|brPopLPush|blmPop|bzPopMin|bzPopMax|bzmPop)\(|\bBLOCK\s*:|'(BLOCK|BLPOP|BRPOP|BLMOVE|BRPOPLPUSH|BLMPOP|BZPOPMIN|BZPOPMAX|BZMPOP|WAIT|WAITAOF)'/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the shared Redis connection', () => {
  it('is never held by a blocking command anywhere in src/', () => {
    const found = sources(SRC).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (BLOCKING.test(line) && !/^\s*(\*|\/\/)/.test(line) ? [`${relative(SRC, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });

  it('would notice one', () => {
    expect(BLOCKING.test("await redis.xReadGroup('g', 'c', { key, id: '>' }, { COUNT: 10, BLOCK: 5000 })")).toBe(true);
    expect(BLOCKING.test("await redis.sendCommand(['XREADGROUP', 'GROUP', g, c, 'BLOCK', '5000', 'STREAMS', key, '>'])")).toBe(true);
    expect(BLOCKING.test('await redis.blPop(key, 0)')).toBe(true);
    expect(BLOCKING.test("await redis.xReadGroup('g', 'c', { key, id: '>' }, { COUNT: 10 })")).toBe(false);
  });
});
