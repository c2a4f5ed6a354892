/** Shared types of the screening engine: the facts and results contracts of SPEC §4–§5. */

export type YesNo = 'yes' | 'no' | 'unknown';
export type FactValue = string | number | string[];
/** A situation: fact id → value. Absent = not asked; 'unknown' = asked, not known. */
export type Facts = Record<string, FactValue>;

export type Status = 'indicated' | 'needs_info' | 'not_indicated';
export type Lang = 'kk' | 'ru' | 'en';
export const LANGS: readonly Lang[] = ['kk', 'ru', 'en'];

/** A rule's condition over facts, other rules and parameters (YAML in flows/catalogue). */
export type Condition =
  | { fact: string; is?: string | number; eq?: number; in?: (string | number)[]; gt?: number; gte?: number; lt?: number; lte?: number }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { ground: string }
  | { benefit: string }
  | { anyGround: true }
  | { perCapitaIncomeBelow: string }
  /**
   * The sum of whole-number facts is at least `gte` (e.g. minors plus grown-up children in
   * full-time study ≥ 4). `within`: a count the parts are among (household members), so the
   * sum can never exceed it.
   */
  | { sum: string[]; gte: number; within?: string };

export interface FactDef {
  id: string;
  type: 'yesno' | 'int' | 'enum' | 'list';
  values?: string[];
  min?: number;
  max?: number;
  of?: 'service' | 'benefit' | 'topic';
  /**
   * Life-event topics (topics.yaml) this question belongs to. Once the family has
   * answered `topics`, a question of no ticked topic is not asked, and a rule only
   * such questions could make true is not indicated (SPEC §4: topics close rules
   * only when present).
   */
  topics?: string[];
  quick?: number[];
  sensitive?: boolean;
  /** The question applies only when this holds; otherwise the fact takes `whenIrrelevant`. */
  relevantIf?: Condition;
  whenIrrelevant?: string | number;
  /** Values other answers already imply (e.g. a household of one lives alone); the question is then not asked. */
  impliedBy?: { when: Condition; value: string | number }[];
  /**
   * Asked together: the pending yes/no questions marked so share one "which of these
   * apply to anyone in your family?" screen (src/engine/together.ts).
   */
  ask?: 'together';
}

export interface Source {
  doc: string;
  ref: string;
  status: 'in_force' | 'repealed' | 'unverified';
  seed?: string;
}

/** SPEC §1: who decides admission to a ground's services (seed 003 R1–R12). */
export type AdmissionRoute = 'akimat_decision' | 'guardianship_referral' | 'own_application' | 'court' | 'criminal_case_body';

export interface Rule {
  id: string;
  when: Condition;
  documents: string[];
  apply: string[];
  /** Help lines named with the places to go (contact ids). */
  contacts?: string[];
  /** Who decides admission (SPEC §1 admission routes), for a referral's worker. */
  admission?: AdmissionRoute[];
  source: Source;
  validFrom?: string;
  validTo?: string;
}

export interface ServiceDef {
  id: string;
  forGrounds: string[];
  /** Forms of help this type is given in (seed 004, health sector: consultation, home visits, …); texts in locales/<lang>/forms.json. */
  forms?: string[];
}

/** A document a rule asks for (rules' `documents`), with whether a content owner has confirmed it against a source. */
export interface DocumentDef {
  id: string;
  verified: boolean;
  reference?: string;
}

export interface Contact {
  id: string;
  number: string;
  emergency: boolean;
  hours: string;
  textFriendly?: boolean;
  /** The short lines this number appears in: under unexpected replies (net), in a result's urgent line (urgent). */
  lines?: ('net' | 'urgent')[];
  reference: string;
  verified: boolean;
}

export interface DatedValue {
  from: string;
  to?: string;
  value: number;
  reference: string;
  verified: boolean;
}
/** parameter id → region → dated values. */
export type Params = Record<string, Record<string, DatedValue[]>>;

export interface Catalogue {
  rulesVersion: string;
  facts: FactDef[];
  grounds: Rule[];
  benefits: Rule[];
  services: ServiceDef[];
  /** The documents rules ask for (documents.yaml): `verified: false` until a content owner confirms them. */
  documents: DocumentDef[];
  /** Life-event topics, in the order the topics screen shows them. */
  topics: { id: string }[];
  /** `disclosure`: facts whose "yes" brings help at once, each with the kind of danger it discloses (danger-cues.yaml kinds). */
  safety: { urgent: Condition; emergency: Condition; disclosure: Record<string, string> };
  contacts: Contact[];
  params: Params;
}

/** One criterion behind a status: a fact's value, or a parameter used. */
export type Reason =
  | { fact: string; value: FactValue }
  | { param: string; value: number; region: string; verified: boolean };

export interface RuleResult {
  id: string;
  status: Status;
  because: Reason[];
  missing?: string[];
  /** Parameters that have no value in force for this date (region): nothing the family says can fill them. */
  missingParams?: string[];
  source: Omit<Source, 'seed'>;
  alreadyReceiving?: true;
  /** Set when the rule is not in force on the date. */
  notInForce?: true;
}

export interface ServiceResult {
  id: string;
  /** Ground ids, or "needs" when the family asked for this type directly. */
  because: string[];
}

export interface Result {
  rulesVersion: string;
  date: string;
  urgent: boolean;
  emergency: boolean;
  grounds: RuleResult[];
  benefits: RuleResult[];
  services: ServiceResult[];
  missing: string[];
}
