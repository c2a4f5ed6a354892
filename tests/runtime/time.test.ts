import { describe, expect, it } from 'vitest';
import { todayInAlmaty } from '../../src/time.js';

describe("today's date in Almaty", () => {
  it('turns at midnight in Almaty (UTC+5), not at midnight UTC, call after call', () => {
    expect(todayInAlmaty(new Date('2026-12-02T18:59:59Z'))).toBe('2026-12-02');
    expect(todayInAlmaty(new Date('2026-12-02T19:00:00Z'))).toBe('2026-12-03');
    expect(todayInAlmaty(new Date('2026-12-31T19:00:00Z'))).toBe('2027-01-01');
  });
});
