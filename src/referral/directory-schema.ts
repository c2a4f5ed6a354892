/**
 * zod schemas of the directory files and routing requests (SPEC §9), and the wording of their
 * errors. No I/O, so the pure routing module can share them.
 */
import { z } from 'zod';
import type { Lang } from '../engine/types.js';
import { PROFILES, WORKER_LANGS } from './types.js';

// Ids travel in Telegram callback data (64 bytes at most): short, plain characters.
export const DIRECTORY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
export const DISTRICT_ID = /^[a-z][a-z0-9_]*$/;

/** `unknown <what> "x"`, or `missing` when the field is absent. */
export const oneOf = <T extends string>(values: readonly T[], what: string) =>
  z.enum(values as [T, ...T[]], { error: (iss) => (iss.input === undefined ? 'missing' : `unknown ${what} ${JSON.stringify(iss.input)}`) });

export const areaSchema = (regions: readonly string[]) =>
  z.strictObject({
    region: oneOf(regions, 'region'),
    district: z.string({ error: 'must be an id' }).regex(DISTRICT_ID, 'must be lower-case letters, digits and _').optional(),
  });

export const idSchema = z.string({ error: (iss) => (iss.input === undefined ? 'missing' : 'must be text') }).regex(DIRECTORY_ID, 'must be up to 40 letters, digits, "-", "_" or "."');
const nameText = (lang: string) => z.string({ error: `missing (the ${lang} name)` }).trim().min(1, `missing (the ${lang} name)`);

export function directorySchemas(regions: readonly string[]) {
  const areas = z.array(areaSchema(regions), { error: 'must be a list of { region, district }' }).min(1, 'must name at least one area');
  const organization = z.strictObject({
    id: idSchema,
    name: z.strictObject({ kk: nameText('kk'), ru: nameText('ru'), en: nameText('en') } satisfies Record<Lang, unknown>, {
      error: (iss) => (iss.input === undefined ? 'missing (kk, ru, en)' : 'must be { kk, ru, en }'),
    }),
    areas,
  });
  const worker = z
    .strictObject({
      id: idSchema,
      organization: z.string({ error: 'missing' }).min(1, 'missing'),
      role: z.enum(['worker', 'supervisor'], { error: (iss) => `must be worker or supervisor${iss.input === undefined ? '' : `, not ${JSON.stringify(iss.input)}`}` }),
      profiles: z.array(oneOf(PROFILES, 'profile'), { error: 'must be a list' }).default([]),
      languages: z.array(oneOf(WORKER_LANGS, 'language'), { error: 'missing (a list of kk, ru)' }).min(1, 'must name at least one language'),
      areas: areas.optional(),
      capacity: z
        .number({ error: (iss) => `must be a positive whole number, got ${iss.input === undefined ? 'nothing' : JSON.stringify(iss.input)}` })
        .int({ error: (iss) => `must be a positive whole number, got ${JSON.stringify(iss.input)}` })
        .positive({ error: (iss) => `must be a positive whole number, got ${JSON.stringify(iss.input)}` }),
    })
    // A supervisor takes what nobody fits; a worker with no profile could never fit anything.
    .refine((w) => w.role === 'supervisor' || w.profiles.length > 0, { path: ['profiles'], message: 'a worker needs at least one profile' });
  const file = z.strictObject(
    {
      example: z.boolean({ error: 'must be true or false' }).optional(),
      organizations: z.array(z.unknown(), { error: 'must be a list' }).optional(),
      workers: z.array(z.unknown(), { error: 'must be a list' }).optional(),
    },
    { error: 'expected organizations and workers' },
  );
  return { organization, worker, file };
}

/** `areas[0].region`, for a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

export function issueLines(error: z.ZodError, where: string): string[] {
  return error.issues.map((iss) => {
    const field = fieldPath(iss.path);
    const message = iss.code === 'unrecognized_keys' ? `unknown field${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}` : iss.message;
    return `${where}: ${field ? `${field}: ` : ''}${message}`;
  });
}

/** `workers[3] (w-astana-07)`: the entry by its place in the file and its id when it has one. */
export function entryName(section: string, index: number, entry: unknown): string {
  const id = (entry as { id?: unknown } | null)?.id;
  return `${section}[${index}]${typeof id === 'string' || typeof id === 'number' ? ` (${id})` : ''}`;
}


/** One routing request of SPEC §9. */
export const requestSchema = (regions: readonly string[]) =>
  z.strictObject({
    id: idSchema,
    ...areaSchema(regions).shape,
    profile: oneOf(PROFILES, 'profile'),
    language: oneOf(WORKER_LANGS, 'language'),
    urgent: z.boolean({ error: 'must be true or false' }),
  });
