/**
 * How a referral reads: the worker's card (one message a worker acts on without
 * scrolling) and the family's preview of exactly what will be shared. Pure: the
 * same packet in, the same lines out, so what the family agreed to is what the
 * worker sees.
 */
import { createHash } from 'node:crypto';
import type { Lang } from '../engine/types.js';
import type { T, Translator } from '../i18n/i18n.js';
import { formatDate } from '../i18n/dates.js';
import type { Referral, ReferralPacket } from '../referral/types.js';

/** A worker's card stays under this, so it fits one phone screen with its buttons. */
export const CARD_LIMIT = 900;
/** Items "not known yet" listed by name on the card; more are counted. */
const OPEN_BY_NAME = 3;
const ICON = { indicated: '✅', needs_info: '❓', not_indicated: '—' } as const;

export function regionName(t: T, region: string): string {
  return t(`facts:region.values.${region}`);
}

/** "Astana, district yesil": a district has no locale label of its own, so its id is shown. */
export function whereText(t: T, region: string, district?: string): string {
  return district ? `${regionName(t, region)}, ${t('referral:worker.card.district', { district })}` : regionName(t, region);
}

function itemName(t: T, item: ReferralPacket['result'][number]): string {
  if (item.kind === 'ground') return t(`grounds:${item.id}.short`);
  if (item.kind === 'benefit') return t(`benefits:${item.id}.name`);
  return t(`services:${item.id}.short`);
}

const receivesList = (t: T, ids: string[]) => ids.map((id) => t(`benefits:${id}.short`)).join(', ');

/** Whether the viewer may read the operator's note: a psychologist referral's note is for psychologists only (SPEC §8). */
export function noteVisible(packet: ReferralPacket, viewerIsPsychologist: boolean): boolean {
  return packet.profile !== 'psychologist' || viewerIsPsychologist;
}

export interface CardOptions {
  /** A first line saying why this message came (new, reminder, escalated…). */
  header?: string;
  viewerIsPsychologist: boolean;
  lang: Lang;
  /** Show who holds it (supervisors' view). */
  showHolder?: boolean;
}

/** The worker's card: short id, urgency, profile, where, language, statuses one a line, contact, note, route, status. */
export function workerCard(t: T, r: Referral, opts: CardOptions): string {
  const p = r.packet;
  const lines: string[] = [];
  if (opts.header) lines.push(opts.header);
  lines.push(`${t('referral:worker.card.title', { id: r.id })}${r.urgent ? ` · ${t('referral:worker.card.urgent')}` : ''}`);
  lines.push(t('referral:worker.card.profile', { profile: t(`referral:profiles.${r.profile}`) }));
  lines.push(t('referral:worker.card.where', { where: whereText(t, r.region, r.district) }));
  lines.push(t('referral:worker.card.language', { lang: t(`referral:languages.${r.lang}`) }));
  if (p) lines.push(...packetCardLines(t, p, opts.viewerIsPsychologist));
  else lines.push(t('referral:worker.card.erased'));
  lines.push(t('referral:worker.card.status', { status: t(`referral:statuses.${r.status}`) }));
  if (r.visitDate) lines.push(t('referral:worker.card.visit', { date: formatDate(r.visitDate, opts.lang) }));
  if (r.declineReason && (r.status === 'declined' || r.status === 'requested')) lines.push(t('referral:worker.card.declined', { reason: t(`referral:declineReasons.${r.declineReason}`) }));
  if (r.outcome) lines.push(t('referral:worker.card.outcome', { outcome: t(`referral:outcomes.${r.outcome}`) }));
  const holder = r.workerId ?? r.supervisorId;
  if (opts.showHolder && holder) lines.push(t('referral:worker.card.holder', { worker: holder }));
  return fitCard(lines);
}


/** The packet as staff read it, one line each: where it came from, the screening, what the family receives, contact, note, admission route. */
export function packetCardLines(t: T, p: ReferralPacket, viewerIsPsychologist: boolean): string[] {
  const lines: string[] = [];
  lines.push(p.caseId ? t('referral:worker.card.from.operator', { caseId: p.caseId }) : t('referral:worker.card.from.family'));
  lines.push(t('referral:worker.card.screening'));
  const indicated = p.result.filter((x) => x.status === 'indicated');
  const open = p.result.filter((x) => x.status === 'needs_info');
  for (const x of indicated) lines.push(`${ICON.indicated} ${itemName(t, x)}`);
  const named = open.length <= OPEN_BY_NAME + 1 ? open : open.slice(0, OPEN_BY_NAME);
  for (const x of named) lines.push(`${ICON.needs_info} ${itemName(t, x)}`);
  if (named.length < open.length) lines.push(t('referral:worker.card.moreOpen', { n: open.length - named.length }));
  if (!indicated.length && !open.length) lines.push(t('referral:worker.card.screeningNone'));
  lines.push(p.receives.length ? t('referral:worker.card.receives', { list: receivesList(t, p.receives) }) : t('referral:worker.card.receivesNone'));
  lines.push(p.contact.kind === 'phone' ? t('referral:worker.card.contactPhone', { phone: p.contact.phone }) : t('referral:worker.card.contactTelegram'));
  if (p.contactTime) lines.push(t('referral:worker.card.time', { time: t(`referral:contactTimes.${p.contactTime}`) }));
  if (p.note) lines.push(noteVisible(p, viewerIsPsychologist) ? t('referral:worker.card.note', { note: clip(p.note, 200) }) : t('referral:worker.card.noteHidden'));
  if (p.admissionRoutes.length) lines.push(t('referral:worker.card.route', { routes: p.admissionRoutes.map((a) => t(`referral:admissionRoutes.${a}`)).join(', ') }));
  return lines;
}

/** A last guard: the note is already clipped and long lists counted, so this cuts only an extreme card. */
function fitCard(lines: string[]): string {
  const text = lines.join('\n');
  return text.length <= CARD_LIMIT ? text : `${text.slice(0, CARD_LIMIT - 1)}…`;
}

function clip(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length <= n ? flat : `${flat.slice(0, n - 1)}…`;
}

/** The family's preview: every field of the packet, in their words, one line each. */
export function packetPreview(t: T, p: ReferralPacket): string {
  const lines = [t('referral:family.previewLines.region', { where: whereText(t, p.region, p.district) }), t('referral:family.previewLines.language', { lang: t(`referral:languages.${p.lang}`) })];
  if (p.urgent) lines.push(t('referral:family.previewLines.urgent'));
  const shown = p.result.filter((x) => x.status !== 'not_indicated');
  if (shown.length) {
    lines.push(t('referral:family.previewLines.result'));
    for (const x of shown) lines.push(`   ${ICON[x.status]} ${itemName(t, x)}`);
  } else {
    lines.push(t('referral:family.previewLines.resultNone'));
  }
  lines.push(p.receives.length ? t('referral:family.previewLines.receives', { list: receivesList(t, p.receives) }) : t('referral:family.previewLines.receivesNone'));
  lines.push(p.contact.kind === 'phone' ? t('referral:family.previewLines.phone', { phone: p.contact.phone }) : t('referral:family.previewLines.telegram'));
  if (p.contactTime) lines.push(t('referral:family.previewLines.time', { time: t(`referral:contactTimes.${p.contactTime}`) }));
  if (p.note) lines.push(t('referral:family.previewLines.note', { note: p.note }));
  if (p.admissionRoutes.length) lines.push(t('referral:worker.card.route', { routes: p.admissionRoutes.map((a) => t(`referral:admissionRoutes.${a}`)).join(', ') }));
  return lines.join('\n');
}

/**
 * A short fingerprint of a packet, carried in the consent button: the packet is built again
 * when the family agrees, and only the one they saw is sent.
 */
export function packetHash(p: ReferralPacket): string {
  const canonical = JSON.stringify(p, Object.keys(flattenKeys(p)).sort());
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 10);
}

function flattenKeys(x: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) {
    out[k] = true;
    flattenKeys(v, out);
  }
  return out;
}

/** The family's language for a message the bot sends on its own: their chosen one, else the referral's. */
export async function familyLang(sessions: { read(key: string): Promise<{ lang?: Lang } | undefined> | { lang?: Lang } | undefined }, chatId: number, fallback: Lang): Promise<Lang> {
  const s = await sessions.read(String(chatId));
  return s?.lang ?? fallback;
}

/** "The family's status" line for "What is happening with my request?". */
export function familyStatusText(tr: Translator, lang: Lang, r: Referral): string {
  const t = tr.bind(lang);
  const lines = [t('referral:family.statusLine', { id: r.id, status: t(`referral:family.statusWords.${r.status}`) })];
  if (r.visitDate && (r.status === 'in-progress' || r.status === 'accepted')) lines.push(t('referral:family.visitOn', { date: formatDate(r.visitDate, lang) }));
  if (r.outcome && (r.status === 'completed' || r.status === 'failed')) lines.push(t(`referral:family.outcomeWords.${r.outcome}`));
  return lines.join('\n');
}
