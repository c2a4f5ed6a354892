/**
 * Renders a screening result for a family in their language: what their answers
 * suggest and why (✅ per criterion, ❓ for what is still unknown), documents to
 * bring, where to go, and the legal basis with its status. Returns sections; the
 * caller splits them into Telegram messages.
 */
import type { Catalogue, FactValue, Reason, Result, RuleResult } from '../engine/types.js';
import { sourceKey } from '../i18n/resources.js';
import type { T } from '../i18n/i18n.js';

export function renderValue(t: T, catalogue: Catalogue, fact: string, value: FactValue): string {
  const def = catalogue.facts.find((f) => f.id === fact);
  if (value === 'unknown') return t('results:value.unknown');
  if (Array.isArray(value)) {
    const ns = def?.of === 'benefit' ? 'benefits' : 'services';
    return value.length ? value.map((v) => t(`${ns}:${v}.name`)).join(', ') : t('results:value.none');
  }
  if (def?.type === 'yesno') return t(`results:value.${value}`);
  if (def?.type === 'enum') return t(`facts:${fact}.values.${value}`);
  return typeof value === 'number' ? value.toLocaleString('ru-RU') : String(value);
}

function reasonLine(t: T, catalogue: Catalogue, r: Reason): string {
  if ('param' in r) {
    return `✅ ${t('results:povertyLine', { value: r.value.toLocaleString('ru-RU'), region: t(`facts:region.values.${r.region}`) })}`;
  }
  return `✅ ${t(`facts:${r.fact}.label`)}: ${renderValue(t, catalogue, r.fact, r.value)}`;
}

/** "Art. 6 p.1 sub.9" in the reader's language; words it does not know stay as written. */
function localRef(t: T, ref: string): string {
  return ref
    .replace(/Art\. ?(\d+)/g, (_, n: string) => t('results:ref.article', { n }))
    .replace(/\bp\. ?(\d+)/g, (_, n: string) => t('results:ref.paragraph', { n }))
    .replace(/sub\. ?(\d+)/g, (_, n: string) => t('results:ref.subparagraph', { n }));
}

function ruleBlock(t: T, catalogue: Catalogue, ns: 'grounds' | 'benefits', r: RuleResult): string {
  const lines = [`• ${t(`${ns}:${r.id}.${ns === 'grounds' ? 'short' : 'name'}`)}${r.alreadyReceiving ? ` — ${t('results:alreadyReceiving')}` : ''}`];
  lines.push(`  ${t(`${ns}:${r.id}.explain`)}`);
  for (const reason of r.because) lines.push(`  ${reasonLine(t, catalogue, reason)}`);
  for (const fact of r.missing ?? []) lines.push(`  ❓ ${t(`facts:${fact}.label`)}`);
  for (const _ of r.missingParams ?? []) lines.push(`  ❓ ${t('results:missingPovertyLine')}`);
  lines.push(`  ${t('results:basis', { doc: t(sourceKey(r.source.doc)), ref: localRef(t, r.source.ref) })} ${t(`results:sourceStatus.${r.source.status}`)}`);
  return lines.join('\n');
}

/** The family-facing explanation of a result, as a list of sections (each well under 4096 characters). */
export function renderResult(t: T, catalogue: Catalogue, result: Result): string[] {
  const sections: string[] = [];
  if (result.emergency || result.urgent) sections.push(t(result.emergency ? 'results:emergency' : 'results:urgent', { numbers: numbersIn(catalogue, 'urgent') }));
  sections.push(t('results:intro'));
  const pick = (rules: RuleResult[], status: RuleResult['status']) => rules.filter((r) => r.status === status);
  const groundsYes = pick(result.grounds, 'indicated');
  const groundsMaybe = pick(result.grounds, 'needs_info');
  const benefitsYes = pick(result.benefits, 'indicated');
  const benefitsMaybe = pick(result.benefits, 'needs_info');
  const add = (title: string, ns: 'grounds' | 'benefits', rules: RuleResult[]) => {
    if (rules.length) sections.push([t(title), ...rules.map((r) => ruleBlock(t, catalogue, ns, r))].join('\n\n'));
  };
  add('results:groundsIndicated', 'grounds', groundsYes);
  add('results:benefitsIndicated', 'benefits', benefitsYes);
  add('results:groundsNeedInfo', 'grounds', groundsMaybe);
  add('results:benefitsNeedInfo', 'benefits', benefitsMaybe);
  if (!groundsYes.length && !benefitsYes.length) sections.push(t('results:nothingIndicated'));

  if (result.services.length) {
    sections.push(
      [
        t('results:services'),
        ...result.services.map((s) => `• ${t(`services:${s.id}.name`)} — ${t(`services:${s.id}.explain`)}`),
      ].join('\n'),
    );
  }
  const relevant = [...groundsYes, ...benefitsYes, ...groundsMaybe, ...benefitsMaybe];
  const rules = new Map([...catalogue.grounds, ...catalogue.benefits].map((r) => [r.id, r]));
  const documents = [...new Set(relevant.flatMap((r) => rules.get(r.id)?.documents ?? []))];
  const places = [...new Set(relevant.flatMap((r) => rules.get(r.id)?.apply ?? []))];
  const helpLines = [...new Set(relevant.flatMap((r) => rules.get(r.id)?.contacts ?? []))].map((id) => catalogue.contacts.find((c) => c.id === id)!);
  if (documents.length) sections.push([t('results:documents'), ...documents.map((d) => `• ${t(`documents:${d}`)}`)].join('\n'));
  sections.push(
    [
      t('results:whereToGo'),
      ...(places.length ? places : ['akimat_social_department']).map((p) => `• ${t(`places:${p}`)}`),
      ...helpLines.map((c) => `📞 ${c.number} — ${t(`contacts:${c.id}.name`)}: ${t(`contacts:${c.id}.purpose`)}`),
    ].join('\n'),
  );
  if (result.missing.length) {
    sections.push([t('results:stillUnknown'), ...result.missing.map((f) => `❓ ${t(`facts:${f}.label`)}`)].join('\n'));
  }
  sections.push(t('results:disclaimer', { version: result.rulesVersion, date: result.date }));
  return sections;
}

/** "102 · 111 · 150": the numbers of one of the short lines (contacts.yaml `lines`). */
export function numbersIn(catalogue: Catalogue, line: 'net' | 'urgent'): string {
  return catalogue.contacts
    .filter((c) => c.lines?.includes(line))
    .map((c) => c.number)
    .join(' · ');
}
