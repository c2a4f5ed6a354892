/**
 * Operators' working hours in Asia/Almaty, and SLA deadlines counted in
 * working time (a family who writes at 17:55 on Friday is not "late" at 18:05).
 * Format: "mon-fri 09:00-18:00; sat 10:00-14:00", or "always".
 */
import { TIME_ZONE } from '../time.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const MINUTE = 60_000;
const DAY_MS = 24 * 60 * MINUTE;

/** Per weekday (0 = Sunday): open intervals in minutes after local midnight. */
export type WeekHours = [number, number][][];

export class HoursError extends Error {}

export function parseHours(spec: string): WeekHours {
  const week: WeekHours = DAYS.map(() => []);
  if (spec.trim() === 'always') return DAYS.map(() => [[0, 24 * 60]]);
  for (const part of spec.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(part.toLowerCase());
    if (!m) throw new HoursError(`"${part}": expected like "mon-fri 09:00-18:00"`);
    const from = DAYS.indexOf(m[1] as (typeof DAYS)[number]);
    const to = m[2] ? DAYS.indexOf(m[2] as (typeof DAYS)[number]) : from;
    const start = Number(m[3]) * 60 + Number(m[4]);
    const end = Number(m[5]) * 60 + Number(m[6]);
    if (from < 0 || to < 0 || start >= end || end > 24 * 60) throw new HoursError(`"${part}": not a valid day range or time range`);
    for (let d = from; ; d = (d + 1) % 7) {
      week[d]!.push([start, end]);
      if (d === to) break;
    }
  }
  if (week.every((d) => !d.length)) throw new HoursError('no working hours given');
  return week.map((d) => d.sort((a, b) => a[0] - b[0]));
}

/** Local weekday and minutes since local midnight, and the epoch of that midnight. */
function local(at: number): { weekday: number; minute: number; midnight: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: TIME_ZONE, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const minute = Number(parts.hour) * 60 + Number(parts.minute);
  const intoDay = minute * MINUTE + Number(parts.second) * 1000 + (at % 1000);
  return { weekday: DAYS.indexOf(String(parts.weekday).toLowerCase() as (typeof DAYS)[number]), minute, midnight: at - intoDay };
}

export class WorkingHours {
  constructor(readonly week: WeekHours) {}

  static parse(spec: string): WorkingHours {
    return new WorkingHours(parseHours(spec));
  }

  isOpen(at: number): boolean {
    const { weekday, minute } = local(at);
    return this.week[weekday]!.some(([s, e]) => minute >= s && minute < e);
  }

  /** The next moment the line opens (`at` itself when open). */
  nextOpening(at: number): number {
    if (this.isOpen(at)) return at;
    for (let day = 0; day < 8; day++) {
      const { weekday, minute, midnight } = local(at + day * DAY_MS);
      for (const [s] of this.week[weekday]!) {
        const candidate = midnight + s * MINUTE;
        if (day > 0 || s > minute) return candidate;
      }
    }
    throw new HoursError('no opening within a week');
  }

  /** `at` plus `minutes` of working time. */
  deadline(at: number, minutes: number): number {
    let t = this.nextOpening(at);
    let left = minutes * MINUTE;
    for (let guard = 0; guard < 64; guard++) {
      const { weekday, minute, midnight } = local(t);
      const interval = this.week[weekday]!.find(([s, e]) => minute >= s && minute < e)!;
      const closes = midnight + interval[1] * MINUTE;
      if (t + left <= closes) return t + left;
      left -= closes - t;
      t = this.nextOpening(closes);
    }
    throw new HoursError('deadline too far away');
  }
}
