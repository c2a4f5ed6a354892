/** What the handoff's parts are built from: its configuration and the things it talks to. */
import type { Api } from 'grammy';
import type { Lang } from '../engine/types.js';
import type { Translator } from '../i18n/i18n.js';
import type { Logger } from '../log.js';
import type { WorkingHours } from './hours.js';
import type { HandoffStore } from './store.js';

export interface HandoffConfig {
  /** The operators' forum supergroup. */
  groupId: number;
  operatorIds: number[];
  supervisorIds: number[];
  hours: WorkingHours;
  /** SLA: minutes of working time to the first operator reply, and between replies. */
  firstResponseMinutes: number;
  nextResponseMinutes: number;
  /** Show the operator's first name to the family. */
  showOperatorName: boolean;
  /** The language of cards and notices in the operators' group. */
  staffLang: Lang;
  /** Referrals to social workers are configured: the claimed case's card gets "Refer". */
  referrals?: boolean;
}

export interface HandoffDeps {
  store: HandoffStore;
  api: Api;
  translator: Translator;
  log: Logger;
  config: HandoffConfig;
  now?: () => number;
  /** Case ids: short, unambiguous, no personal data. */
  newCaseId?: () => string;
}

/** The deps with the clock settled: what every part of the handoff shares, so one clock drives them all. */
export type HandoffParts = Omit<HandoffDeps, 'now' | 'newCaseId'> & { now: () => number };
