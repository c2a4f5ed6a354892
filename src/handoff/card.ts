/**
 * The case card and topic name operators see (English: staff language). No
 * personal data: a short case id, language, region, urgency, the statuses of
 * the screening summary the family agreed to share, and the wait.
 */
import { InlineKeyboard } from 'grammy';
import type { T } from '../i18n/i18n.js';
import { OPERATOR_OUTCOMES, type CaseRecord } from './types.js';

const STATUS_ICON = { indicated: '✅', needs_info: '❓', not_indicated: '—' } as const;

export function topicName(rec: CaseRecord): string {
  const state = rec.status === 'closed' ? '✔️' : rec.status === 'claimed' ? '💬' : rec.status === 'family_unreachable' ? '🚫' : '⏳';
  return `${state} #${rec.id}${rec.urgent ? ' · 🔴 URGENT' : ''} · ${rec.lang.toUpperCase()}`.slice(0, 128);
}

export function caseCard(rec: CaseRecord, t: T, now: number): string {
  const waited = Math.max(0, Math.round(((rec.firstResponseAt ?? now) - rec.createdAt) / 60000));
  const lines = [
    `${rec.urgent ? '🔴 ' : ''}${t('ops:card.title', { id: rec.id })}`,
    `${t('ops:card.status')}: ${t(`ops:status.${rec.status}`)}${rec.operatorId ? ` (${t('ops:card.operator')} ${rec.operatorId})` : ''}`,
    `${t('ops:card.language')}: ${rec.lang}`,
    `${t('ops:card.region')}: ${rec.region ? t(`facts:region.values.${rec.region}`) : t('ops:card.unknown')}`,
    `${t('ops:card.urgency')}: ${rec.urgent ? t('ops:card.urgent') : t('ops:card.normal')}`,
    `${t('ops:card.waited')}: ${t('ops:card.minutes', { n: waited })}`,
    `${t('ops:card.consent')}: ${rec.consentAt ? t('ops:card.consentGiven') : t('ops:card.consentNot')}`,
  ];
  if (rec.summary) {
    // What the answers suggest, by name; what is still open, by name when few (a long list of ❓ reads as noise).
    const named = (x: { id: string }, ns: 'grounds' | 'benefits') => t(ns === 'grounds' ? `grounds:${x.id}.short` : `benefits:${x.id}.name`);
    const all = [...rec.summary.grounds.map((g) => ({ ...g, ns: 'grounds' as const })), ...rec.summary.benefits.map((b) => ({ ...b, ns: 'benefits' as const }))];
    const indicated = all.filter((x) => x.status === 'indicated');
    const open = all.filter((x) => x.status === 'needs_info');
    lines.push('', t('ops:card.summary'));
    for (const x of indicated) lines.push(`${STATUS_ICON.indicated} ${named(x, x.ns)}`);
    if (open.length <= 5) for (const x of open) lines.push(`${STATUS_ICON.needs_info} ${named(x, x.ns)}`);
    else lines.push(`${STATUS_ICON.needs_info} ${t('ops:card.openCount', { n: open.length, count: open.length })}`);
    if (!indicated.length && !open.length) lines.push(t('ops:card.nothingIndicated'));
    // The rules version is for staff only: the family's result shows the date.
    lines.push(`${t('ops:card.rulesVersion')}: ${rec.summary.rulesVersion}`);
  }
  if (rec.callbackPhone) lines.push('', `${t('ops:card.callback')}: ${rec.callbackPhone}`);
  if (rec.outcome) lines.push('', `${t('ops:card.outcome')}: ${t(`ops:outcomes.${rec.outcome}`)}`);
  // The outcome "forgotten" already says it; otherwise the operators learn the family withdrew from the card itself.
  if (rec.withdrawn && rec.outcome !== 'forgotten') lines.push('', t(rec.status === 'closed' ? 'ops:card.withdrawn' : 'ops:card.withdrawnOpen'));
  lines.push('', t('ops:card.reportingDuty'));
  return lines.join('\n');
}

/** Card buttons by status; "Refer" (src/bot/referral-operators.ts) joins the claimed case's when referrals are configured. */
export function caseCardKeyboard(rec: CaseRecord, t: T, opts: { refer?: boolean } = {}): InlineKeyboard {
  const b = (label: string, action: string) => ({ text: label, callback_data: `h|${rec.id}|${action}` });
  if (rec.status === 'closed') return InlineKeyboard.from([[b(t('ops:buttons.note'), 'note')]]);
  if (rec.status === 'claimed') {
    return InlineKeyboard.from([
      [b(t('ops:buttons.transfer'), 'tr'), b(t('ops:buttons.close'), 'cl')],
      opts.refer ? [b(t('ops:buttons.note'), 'note'), b(t('referral:ops.buttons.refer'), 'rf')] : [b(t('ops:buttons.note'), 'note')],
    ]);
  }
  return InlineKeyboard.from([[b(t('ops:buttons.take'), 'take')], [b(t('ops:buttons.close'), 'cl'), b(t('ops:buttons.note'), 'note')]]);
}

export function outcomeKeyboard(rec: CaseRecord, t: T): InlineKeyboard {
  return InlineKeyboard.from([
    ...OPERATOR_OUTCOMES.map((o) => [{ text: t(`ops:outcomes.${o}`), callback_data: `h|${rec.id}|cl:${o}` }]),
    [{ text: t('ops:buttons.cancel'), callback_data: `h|${rec.id}|card` }],
  ]);
}

export function transferKeyboard(rec: CaseRecord, t: T, operators: number[]): InlineKeyboard {
  return InlineKeyboard.from([
    [{ text: t('ops:buttons.backToLine'), callback_data: `h|${rec.id}|tr:line` }],
    ...operators.filter((id) => id !== rec.operatorId).map((id) => [{ text: t('ops:buttons.toOperator', { id }), callback_data: `h|${rec.id}|tr:${id}` }]),
    [{ text: t('ops:buttons.cancel'), callback_data: `h|${rec.id}|card` }],
  ]);
}
