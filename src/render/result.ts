/**
 * Renders a screening result for a family in their language: a first view that
 * fits one message (what the answers suggest, what is not clear yet, the next
 * steps), and on demand why (✅ per criterion, ❓ for what is still unknown),
 * the documents to bring and where to go.
 */
import type { Catalogue, FactValue, Reason, Result, RuleResult } from '../engine/types.js';
import { refKey, sourceKey } from '../i18n/resources.js';
import type { T } from '../i18n/i18n.js';

export function renderValue(t: T, catalogue: Catalogue, fact: string, value: FactValue): string {
  const def = catalogue.facts.find((f) => f.id === fact);
  if (value === 'unknown') return t('results:value.unknown');
  if (Array.isArray(value)) {
    const ns = def?.of === 'benefit' ? 'benefits' : def?.of === 'topic' ? 'topics' : 'services';
    return value.length ? value.map((v) => t(`${ns}:${v}.name`)).join(', ') : t('results:value.none');
  }
  if (def?.type === 'yesno') return t(`results:value.${value}`);
  if (def?.type === 'enum') return t(`facts:${fact}.values.${value}`);
  return typeof value === 'number' ? value.toLocaleString('ru-RU') : String(value);
}

function reasonLine(t: T, catalogue: Catalogue, r: Reason): string {
  if ('param' in r) {
    return `✅ ${t(r.verified ? 'results:povertyLineVerified' : 'results:povertyLine', { value: r.value.toLocaleString('ru-RU'), region: t(`facts:region.values.${r.region}`) })}`;
  }
  return `✅ ${t(`facts:${r.fact}.label`)}: ${renderValue(t, catalogue, r.fact, r.value)}`;
}

/**
 * A source reference in the reader's language. One with words in it ("funeral benefit") has its own
 * text, sources:refs.<slug> (the key refKey in src/i18n/resources.ts gives; the loader checks it exists).
 * One of numbered parts only ("Art. 6 p.1 sub.9, p.2") is worded part by part: Kazakh chains the parts
 * ("6-баптың 1-тармағының 9) тармақшасы, 2-тармағы"), so a part takes its `Of` form when a lower part
 * follows it and its `In` form when it belongs to a higher one (results:ref.*).
 */
function localRef(t: T, ref: string): string {
  const part = /(Art\.|\bp\.|\bsub\.) ?(\d+)/g;
  const key = refKey(ref);
  if (key) return t(key);
  const levels = ['article', 'paragraph', 'subparagraph'] as const;
  const level = (kind: string) => (kind === 'Art.' ? 0 : kind === 'p.' ? 1 : 2);
  const groups = ref.split(/\s*,\s*/).map((g) => [...g.matchAll(part)].map(([, kind, n]) => ({ level: level(kind!), n: n! })));
  const top = groups[0]?.[0]?.level ?? 0;
  return groups
    .map((parts) =>
      parts
        .map(({ level: l, n }, i) => {
          const inside = l > 0 && (i > 0 || l > top);
          const followed = l < 2 && i < parts.length - 1;
          return t(`results:ref.${levels[l]}${inside ? 'In' : ''}${followed ? 'Of' : ''}`, { n });
        })
        .join(' '),
    )
    .join(', ');
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

export interface FirstViewOptions {
  /** Topics the family did not tick: the result says they were not checked. */
  notChecked?: string[];
}

const indicated = (rules: RuleResult[]) => rules.filter((r) => r.status === 'indicated');
const unclear = (result: Result) => [...result.grounds, ...result.benefits].filter((r) => r.status === 'needs_info');
const ruleName = (t: T, r: RuleResult, ns: 'grounds' | 'benefits') => t(`${ns}:${r.id}.${ns === 'grounds' ? 'short' : 'name'}`);

/**
 * The result's first view, one message: the urgent line with the numbers,
 * what the answers suggest (a line each), what is not clear yet, the next
 * steps, and "a pre-screening, not a decision" with the legal status once.
 * The rest (why, documents, where to go) is a button away.
 */
export function renderFirstView(t: T, catalogue: Catalogue, result: Result, opts: FirstViewOptions = {}): string {
  const sections: string[] = [];
  if (result.emergency || result.urgent) sections.push(t(result.emergency ? 'results:emergency' : 'results:urgent', { numbers: numbersIn(catalogue, 'urgent') }));
  const grounds = indicated(result.grounds);
  const benefits = indicated(result.benefits);
  const suggested = [
    ...grounds.map((r) => t('view:ground', { name: ruleName(t, r, 'grounds') })),
    ...benefits.map((r) => t(r.alreadyReceiving ? 'view:receiving' : 'view:benefit', { name: ruleName(t, r, 'benefits') })),
    ...result.services.map((s) => t('view:service', { name: t(`services:${s.id}.name`) })),
  ];
  sections.push([...(suggested.length ? [t('view:title'), ...suggested] : [t('view:nothing')]), ...unverifiedLines(t, benefits)].join('\n'));
  const open = unclear(result);
  if (open.length) {
    const names = open.slice(0, 3).map((r) => ruleName(t, r, result.grounds.includes(r) ? 'grounds' : 'benefits'));
    if (open.length > 3) names.push(t('view:andMore', { n: open.length - 3 }));
    const questions = result.missing.length;
    sections.push(questions ? t('view:unclear', { names: names.join(', '), questions }) : t('view:unclearNoQuestions', { names: names.join(', ') }));
  }
  if (opts.notChecked?.length) sections.push(t('view:notChecked', { topics: opts.notChecked.map((id) => t(`topics:${id}.name`)).join(', ') }));
  sections.push([t('view:next'), firstStep(t, catalogue, [...grounds, ...benefits]), t('view:stepTalk'), t('view:stepRefer')].join('\n'));
  const shown = [...grounds, ...benefits, ...open];
  const old = shown.some((r) => r.source.status !== 'in_force');
  sections.push([t('view:notADecision'), ...(old ? [t('view:basisOld')] : [])].join(' '));
  return sections.join('\n\n');
}

/**
 * A suggested benefit that rests on a poverty line not yet verified says so, once per line used:
 * the family should not count on it before a social worker checks the line in force.
 */
function unverifiedLines(t: T, suggested: RuleResult[]): string[] {
  const lines = suggested
    .filter((r) => !r.alreadyReceiving)
    .flatMap((r) => r.because)
    .flatMap((reason) => ('param' in reason && !reason.verified ? [t('params:family.unverified', { region: t(`facts:region.values.${reason.region}`), value: reason.value.toLocaleString('ru-RU') })] : []));
  return [...new Set(lines)];
}

/** Where to go first, and for what: the first place of the first suggestion, with what it can help with there. */
function firstStep(t: T, catalogue: Catalogue, suggested: RuleResult[]): string {
  const rules = new Map([...catalogue.grounds, ...catalogue.benefits].map((r) => [r.id, r]));
  const place = suggested.map((r) => rules.get(r.id)?.apply[0]).find(Boolean) ?? 'akimat_social_department';
  const there = suggested.filter((r) => rules.get(r.id)?.apply.includes(place));
  const what = there.slice(0, 3).map((r) => ruleName(t, r, catalogue.grounds.some((g) => g.id === r.id) ? 'grounds' : 'benefits'));
  return what.length ? t('view:stepPlace', { place: t(`places:${place}`), what: what.join(', ') }) : t('view:stepPlaceOnly', { place: t(`places:${place}`) });
}

/** "Why?": every suggested or unclear rule with its criteria (✅ / ❓) and legal basis, then what is still unknown. */
export function renderWhy(t: T, catalogue: Catalogue, result: Result): string[] {
  const sections: string[] = [t('view:whyTitle')];
  const add = (title: string, ns: 'grounds' | 'benefits', rules: RuleResult[]) => {
    if (rules.length) sections.push([t(title), ...rules.map((r) => ruleBlock(t, catalogue, ns, r))].join('\n\n'));
  };
  add('results:groundsIndicated', 'grounds', indicated(result.grounds));
  add('results:benefitsIndicated', 'benefits', indicated(result.benefits));
  add('results:groundsNeedInfo', 'grounds', result.grounds.filter((r) => r.status === 'needs_info'));
  add('results:benefitsNeedInfo', 'benefits', result.benefits.filter((r) => r.status === 'needs_info'));
  if (result.services.length) {
    const forms = new Map(catalogue.services.map((s) => [s.id, s.forms ?? []]));
    const serviceLine = (id: string) => {
      const how = forms.get(id) ?? [];
      return [`• ${t(`services:${id}.name`)} — ${t(`services:${id}.explain`)}`, ...(how.length ? [`  ${t('results:forms', { forms: how.map((f) => t(`forms:${f}`)).join('; ') })}`] : [])].join('\n');
    };
    sections.push([t('results:services'), ...result.services.map((s) => serviceLine(s.id))].join('\n'));
  }
  if (result.missing.length) sections.push([t('results:stillUnknown'), ...result.missing.map((f) => `❓ ${t(`facts:${f}.label`)}`)].join('\n'));
  return sections;
}

/**
 * Documents to bring, only for what the answers suggest, each once. A document
 * is marked "to be confirmed" unless documents.yaml says a content owner has
 * verified it (the seeds name no documents, so none is verified yet).
 */
export function renderDocuments(t: T, catalogue: Catalogue, result: Result): string {
  const rules = new Map([...catalogue.grounds, ...catalogue.benefits].map((r) => [r.id, r]));
  const verified = new Map(catalogue.documents.map((d) => [d.id, d.verified]));
  const suggested = [...indicated(result.grounds), ...indicated(result.benefits)].filter((r) => !r.alreadyReceiving);
  const confirmed = new Map<string, boolean>();
  for (const r of suggested) {
    for (const d of rules.get(r.id)?.documents ?? []) confirmed.set(d, verified.get(d) === true);
  }
  if (!confirmed.size) return [t('view:documentsTitle'), t('view:documentsNone')].join('\n');
  const lines = [...confirmed].map(([d, ok]) => `• ${t(`documents:${d}`)}${ok ? '' : ` ${t('view:unconfirmed')}`}`);
  const note = [...confirmed.values()].some((ok) => !ok) ? [t('view:unconfirmedNote')] : [];
  return [t('view:documentsTitle'), ...lines, ...note].join('\n');
}

/** Where to go for what the answers suggest (or the akimat's social department), with the help lines some rules name. */
export function renderWhereToGo(t: T, catalogue: Catalogue, result: Result): string {
  const rules = new Map([...catalogue.grounds, ...catalogue.benefits].map((r) => [r.id, r]));
  const relevant = [...indicated(result.grounds), ...indicated(result.benefits), ...unclear(result)];
  const places = [...new Set(relevant.flatMap((r) => rules.get(r.id)?.apply ?? []))];
  const helpLines = [...new Set(relevant.flatMap((r) => rules.get(r.id)?.contacts ?? []))].map((id) => catalogue.contacts.find((c) => c.id === id)!);
  return [
    t('results:whereToGo'),
    ...(places.length ? places : ['akimat_social_department']).map((p) => `• ${t(`places:${p}`)}`),
    ...helpLines.map((c) => `📞 ${c.number} — ${t(`contacts:${c.id}.name`)}: ${t(`contacts:${c.id}.purpose`)}`),
  ].join('\n');
}

/** Everything, for the CLI's --details and for reviewers: the first view, why, documents and where to go. */
export function renderResult(t: T, catalogue: Catalogue, result: Result, opts: FirstViewOptions = {}): string[] {
  return [renderFirstView(t, catalogue, result, opts), ...renderWhy(t, catalogue, result), renderDocuments(t, catalogue, result), renderWhereToGo(t, catalogue, result)];
}

/** "102 · 111 · 150": the numbers of one of the short lines (contacts.yaml `lines`). */
export function numbersIn(catalogue: Catalogue, line: 'net' | 'urgent'): string {
  return catalogue.contacts
    .filter((c) => c.lines?.includes(line))
    .map((c) => c.number)
    .join(' · ');
}
