/** Shared test data for the referral tests: a small directory and packets. Not real people. */
import type { Directory, DirectoryWorker, Referral, ReferralPacket } from '../../src/referral/types.js';

const worker = (id: string, over: Partial<DirectoryWorker> = {}): DirectoryWorker => ({
  id,
  organization: 'astana-social',
  role: 'worker',
  profiles: ['assessment', 'children_family'],
  languages: ['kk', 'ru'],
  areas: [{ region: 'astana' }],
  capacity: 5,
  ...over,
});

/** Astana: two assessment workers, a psychologist and a supervisor; Almaty region: one worker and a supervisor. */
export function testDirectory(): Directory {
  return {
    example: true,
    organizations: [
      { id: 'astana-social', name: { kk: 'Астана', ru: 'Астана', en: 'Astana' }, areas: [{ region: 'astana' }] },
      { id: 'almaty-social', name: { kk: 'Алматы', ru: 'Алматы', en: 'Almaty' }, areas: [{ region: 'almaty_region' }] },
    ],
    workers: [
      worker('w-ast-1'),
      worker('w-ast-2'),
      worker('w-ast-psy', { profiles: ['psychologist'] }),
      worker('s-ast', { role: 'supervisor', profiles: [] }),
      worker('w-alm-1', { organization: 'almaty-social', areas: [{ region: 'almaty_region' }], profiles: ['assessment', 'disability'] }),
      worker('s-alm', { organization: 'almaty-social', role: 'supervisor', profiles: [], areas: [{ region: 'almaty_region' }] }),
    ],
  };
}

export const PHONE = '+77011234567';
export const NOTE = '=cmd|/c calc Asel Nurlanovna lives on Abai st';

export function packet(over: Partial<ReferralPacket> = {}): ReferralPacket {
  return {
    caseId: 'C7K3QX',
    lang: 'kk',
    region: 'astana',
    urgent: false,
    profile: 'assessment',
    result: [{ kind: 'ground', id: 'low_income', status: 'indicated' }],
    receives: ['asp'],
    contact: { kind: 'phone', phone: PHONE },
    contactTime: 'morning',
    note: NOTE,
    admissionRoutes: ['own_application'],
    ...over,
  };
}

export const T0 = Date.parse('2026-12-07T04:00:00Z'); // Monday 09:00 in Almaty (UTC+5)

let seq = 0;
export function referral(over: Partial<Referral> = {}): Referral {
  const p = over.packet ?? packet();
  return {
    id: `R-T${String(++seq).padStart(5, '0')}`,
    status: 'requested',
    version: 1,
    snapshot: { value: 'requested', context: {} },
    source: 'family',
    familyChatId: 600_000_000 + seq,
    packet: p,
    region: p.region,
    profile: p.profile,
    lang: p.lang,
    urgent: p.urgent,
    workerId: 'w-ast-1',
    createdAt: T0 + seq,
    updatedAt: T0 + seq,
    assignedAt: T0 + seq,
    reminders: 0,
    ...over,
  };
}
