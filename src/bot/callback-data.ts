/**
 * Button payloads (Telegram allows 64 bytes). A payload carries the step of the
 * screen that showed it, so a button pressed on an old message is recognised
 * and changes nothing. Safety buttons ("I am not safe", "talk to a person") and
 * language buttons work from any message, however old.
 */
import type { ScreeningEvent } from '../../flows/screening/machine.js';
import { LANGS, type Lang } from '../engine/types.js';

/** The parts of a result a button opens: why, the documents to bring, where to go. */
export const RESULT_VIEWS = ['why', 'docs', 'where'] as const;
export type ResultView = (typeof RESULT_VIEWS)[number];

export type Action =
  | { kind: 'event'; event: ScreeningEvent }
  | { kind: 'view'; view: ResultView }
  /** One group of answers on the summary (the household or a topic), opened to edit them. */
  | { kind: 'group'; group: string }
  | { kind: 'language'; lang: Lang }
  | { kind: 'continue' }
  | { kind: 'restart' };

const SIMPLE: Record<string, ScreeningEvent['type']> = {
  cs: 'CONSENT',
  dc: 'DECLINE',
  sk: 'SKIP',
  bk: 'BACK',
  ok: 'CONFIRM',
  tk: 'TALK',
  ut: 'URGENT_TALK',
  dg: 'DANGER',
  rs: 'RESUME',
  rf: 'REFER',
  sv: 'SAVE',
  am: 'MORE',
};
const CODE_OF = Object.fromEntries(Object.entries(SIMPLE).map(([code, type]) => [type, code])) as Record<string, string>;
/** Codes accepted from any message: danger first, and a person on request. */
const TIMELESS = new Set(['dg', 'tk', 'ut', 'lg', 'go', 'rt']);

export function encode(step: number, action: Action): string {
  const body = (() => {
    switch (action.kind) {
      case 'language':
        return `lg:${action.lang}`;
      case 'continue':
        return 'go';
      case 'restart':
        return 'rt';
      case 'view':
        return `vw:${action.view}`;
      case 'group':
        return `gr:${action.group}`;
      case 'event': {
        const e = action.event;
        if (e.type === 'ANSWER') return `a:${String(e.value)}`;
        if (e.type === 'TOGGLE') return `t:${e.value}`;
        if (e.type === 'EDIT') return `ed:${e.fact}`;
        const code = CODE_OF[e.type];
        if (!code) throw new Error(`no button code for ${e.type}`);
        return code;
      }
    }
  })();
  const data = `${step}|${body}`;
  if (Buffer.byteLength(data) > 64) throw new Error(`callback data over 64 bytes: ${data}`);
  return data;
}

export type Decoded = { ok: true; step: number; timeless: boolean; action: Action } | { ok: false };

/** Reads a payload; anything malformed or forged decodes as not ok. Value checks are the machine's guards. */
export function decode(data: string | undefined): Decoded {
  const m = /^(\d{1,9})\|([a-z]{2}|[a-z]{1,2}:[A-Za-z0-9_]{1,40})$/.exec(data ?? '');
  if (!m) return { ok: false };
  const step = Number(m[1]);
  const [code, arg] = m[2]!.split(':') as [string, string | undefined];
  const timeless = TIMELESS.has(code);
  const ok = (action: Action): Decoded => ({ ok: true, step, timeless, action });
  if (arg !== undefined) {
    if (code === 'a') return ok({ kind: 'event', event: { type: 'ANSWER', value: /^\d+$/.test(arg) ? Number(arg) : arg } });
    if (code === 't') return ok({ kind: 'event', event: { type: 'TOGGLE', value: arg } });
    if (code === 'ed') return ok({ kind: 'event', event: { type: 'EDIT', fact: arg } });
    if (code === 'lg' && (LANGS as readonly string[]).includes(arg)) return ok({ kind: 'language', lang: arg as Lang });
    if (code === 'vw' && (RESULT_VIEWS as readonly string[]).includes(arg)) return ok({ kind: 'view', view: arg as ResultView });
    if (code === 'gr') return ok({ kind: 'group', group: arg }); // an unknown group opens empty: the renderer checks
    return { ok: false };
  }
  if (code === 'go') return ok({ kind: 'continue' });
  if (code === 'rt') return ok({ kind: 'restart' });
  const type = SIMPLE[code];
  if (!type) return { ok: false };
  return ok({ kind: 'event', event: { type } as ScreeningEvent });
}
