/** zod schemas for the catalogue's YAML files (flows/catalogue) and parameter files. */
import { z } from 'zod';
import type { Condition } from '../engine/types.js';

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString().startsWith(s), 'not a real calendar date');

const scalar = z.union([z.string(), z.number()]);

export const condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(condition).min(1) }),
    z.strictObject({ any: z.array(condition).min(1) }),
    z.strictObject({ not: condition }),
    z.strictObject({ ground: z.string() }),
    z.strictObject({ benefit: z.string() }),
    z.strictObject({ anyGround: z.literal(true) }),
    z.strictObject({ perCapitaIncomeBelow: z.string() }),
    z.strictObject({ sum: z.array(z.string()).min(2), gte: z.number().int(), within: z.string().optional() }),
    z
      .strictObject({
        fact: z.string(),
        is: scalar.optional(),
        eq: z.number().optional(),
        in: z.array(scalar).min(1).optional(),
        gt: z.number().optional(),
        gte: z.number().optional(),
        lt: z.number().optional(),
        lte: z.number().optional(),
      })
      .refine((c) => Object.keys(c).length === 2, 'a fact test needs exactly one of is, eq, in, gt, gte, lt, lte'),
  ]),
);

export const factDef = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/),
  type: z.enum(['yesno', 'int', 'enum', 'list']),
  values: z.array(z.string()).optional(),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  of: z.enum(['service', 'benefit', 'topic']).optional(),
  topics: z.array(z.string()).min(1).optional(),
  quick: z.array(z.number().int()).optional(),
  sensitive: z.boolean().optional(),
  relevantIf: condition.optional(),
  whenIrrelevant: scalar.optional(),
  impliedBy: z.array(z.strictObject({ when: condition, value: scalar })).optional(),
  /** Asked with the other pending `together` questions on one "which of these apply?" screen (yes/no facts only). */
  ask: z.literal('together').optional(),
});

const source = z.strictObject({
  doc: z.string().min(1),
  ref: z.string().min(1),
  status: z.enum(['in_force', 'repealed', 'unverified']),
  seed: z.string().optional(),
});

export const rule = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/),
  when: condition,
  documents: z.array(z.string()),
  apply: z.array(z.string()).min(1),
  /** Help lines named with the places to go (contacts.yaml ids), for rules where a phone call may come first. */
  contacts: z.array(z.string()).optional(),
  /** Who decides admission to the services of a ground (SPEC §1, seed 003 R1–R12), carried on a referral for the worker. */
  admission: z.array(z.enum(['akimat_decision', 'guardianship_referral', 'own_application', 'court', 'criminal_case_body'])).optional(),
  source,
  validFrom: isoDate.optional(),
  validTo: isoDate.optional(),
});

export const service = z.strictObject({ id: z.string(), forGrounds: z.array(z.string()), forms: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)).optional() });
/** documents.yaml: what rules ask families to bring; `verified: false` until a content owner confirms an entry against a source. */
export const document = z.strictObject({ id: z.string().regex(/^[a-z][a-z0-9_]*$/), verified: z.boolean(), reference: z.string().min(1).optional() });
export const topic = z.strictObject({ id: z.string().regex(/^[a-z][a-z0-9_]*$/) });

export const contact = z.strictObject({
  id: z.string(),
  number: z.string().regex(/^\+?[0-9 ()-]{2,20}$/),
  emergency: z.boolean(),
  hours: z.string(),
  textFriendly: z.boolean().optional(),
  lines: z.array(z.enum(['net', 'urgent'])).optional(),
  reference: z.string(),
  verified: z.boolean(),
});

/** A dated parameter value. The messages say what to write, for content owners editing a parameters file. */
export const datedValue = z.strictObject({
  from: isoDate,
  to: isoDate.optional(),
  value: z.number({ error: 'a number is needed, e.g. 45000' }).nonnegative(),
  reference: z.string({ error: 'say where the value comes from (the act, its number and date), e.g. "Order No. 473 of 20.12.2024"' }).min(1),
  verified: z.boolean({ error: 'true once a content owner has checked the value against its source, false until then' }),
});

export const params = z.record(z.string(), z.record(z.string(), z.array(datedValue)).nullable().transform((v) => v ?? {}));

/**
 * A parameter entry in a case file (SPEC §6): only `from` and `value` are needed;
 * `reference` defaults to "case file" and `verified` to false (an unverified value is
 * the safe default). A parameters file for a running bot keeps `reference` required.
 */
export const caseDatedValue = datedValue.extend({ reference: z.string().default('case file'), verified: z.boolean().default(false) });
export const caseParams = z.record(z.string(), z.record(z.string(), z.array(caseDatedValue)).nullable().transform((v) => v ?? {}));

export const safety = z.strictObject({ urgent: condition, emergency: condition, disclosure: z.record(z.string(), z.string()) });
export const meta = z.strictObject({ rulesVersion: z.string().min(1) });
