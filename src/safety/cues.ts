/**
 * Danger cues in free text (SPEC §7), read from flows/catalogue/danger-cues.yaml.
 *
 * A cue is a short pattern of words: `муж* … бьет|бьют|избива*`. A word is an
 * exact word or a stem ending in `*`, alternatives are joined by `|`, words
 * after `!` are excluded (`урад*!урадим*`), and `…` lets up to three other
 * words stand in between ("не хочу больше жить"). Cues and text go through the
 * same normalisation (normalise.ts), so a cue written once in Cyrillic also
 * hears Latin, folded and misspelt forms.
 *
 * Negations ("никто не бьёт", "насилия нет") are patterns too: the words they
 * name are taken out before the cues are matched (words a … skipped stay), so
 * only a certain "no" is dropped and any other cue in the message is heard.
 */
import { z } from 'zod';
import { CatalogueError, readYaml } from '../catalogue/load.js';
import { cueWords } from './normalise.js';

export const CUES_FILE = new URL('../../flows/catalogue/danger-cues.yaml', import.meta.url).pathname;

export const DANGER_KINDS = ['violence', 'sexual_violence', 'self_harm', 'threat', 'child_alone', 'trafficking', 'abduction', 'fear'] as const;
export type DangerKind = (typeof DANGER_KINDS)[number];

/** Words a `…` may skip. */
const GAP = 3;
/** A stem shorter than this, once folded, would hear far too much ("бь*" folds to "б"). */
const MIN_STEM = 3;

interface Word {
  exact: Set<string>;
  stems: string[];
  excluded: string[];
}
type Term = Word | 'gap';
interface Pattern {
  terms: Term[];
  source: string;
}

export interface DangerMatch {
  kind: DangerKind;
  /** The cue as written in the file, for the people who keep the list (never logged with the text). */
  cue: string;
}

const kindSchema = z.strictObject({
  /** Contacts named first in the reply to this kind, by contacts.yaml id. */
  lead: z.array(z.string()).min(1),
  cues: z.array(z.string().min(2)).min(1),
});
const fileSchema = z.strictObject({
  kinds: z.strictObject(Object.fromEntries(DANGER_KINDS.map((k) => [k, kindSchema])) as Record<DangerKind, typeof kindSchema>),
  negations: z.array(z.string().min(2)),
});
export type CueFile = z.infer<typeof fileSchema>;

function parseWord(spec: string, where: string): Word {
  const [include = '', ...exclude] = spec.split('!');
  const word: Word = { exact: new Set(), stems: [], excluded: [] };
  const one = (part: string): string => {
    const words = cueWords(part);
    if (words.length !== 1) throw new CatalogueError(`${where}: «${part}» must be one word`);
    return words[0]!;
  };
  for (const alt of include.split('|')) {
    if (alt.endsWith('*')) {
      const stem = one(alt.slice(0, -1));
      if (stem.length < MIN_STEM) throw new CatalogueError(`${where}: the stem «${alt}» is shorter than ${MIN_STEM} letters once folded (${stem}) and would match too much`);
      word.stems.push(stem);
    } else word.exact.add(one(alt));
  }
  for (const ex of exclude) word.excluded.push(one(ex.replace(/\*$/, '')));
  return word;
}

function parsePattern(source: string, where: string): Pattern {
  const parts = source.trim().split(/\s+/);
  const terms: Term[] = parts.map((p) => (p === '…' || p === '...' ? 'gap' : parseWord(p, where)));
  if (terms[0] === 'gap' || terms.at(-1) === 'gap') throw new CatalogueError(`${where}: «${source}» cannot start or end with …`);
  return { terms, source };
}

const wordMatches = (w: Word, token: string) =>
  (w.exact.has(token) || w.stems.some((s) => token.startsWith(s))) && !w.excluded.some((e) => token.startsWith(e));

/** The positions of the words a match of the pattern starting at `at` covers (not those a … skipped), or undefined. */
function matchAt(terms: Term[], tokens: string[], at: number, t = 0): number[] | undefined {
  if (t === terms.length) return [];
  const term = terms[t]!;
  if (term === 'gap') {
    for (let skip = 0; skip <= GAP && at + skip <= tokens.length; skip++) {
      const rest = matchAt(terms, tokens, at + skip, t + 1);
      if (rest) return rest;
    }
    return undefined;
  }
  if (at >= tokens.length || !wordMatches(term, tokens[at]!)) return undefined;
  const rest = matchAt(terms, tokens, at + 1, t + 1);
  return rest && [at, ...rest];
}

export class DangerCues {
  private readonly cues: { kind: DangerKind; pattern: Pattern }[];
  private readonly negations: Pattern[];
  readonly lead: Record<DangerKind, string[]>;

  constructor(file: CueFile, where = 'danger-cues') {
    this.cues = DANGER_KINDS.flatMap((kind) => file.kinds[kind].cues.map((cue, i) => ({ kind, pattern: parsePattern(cue, `${where}: kinds.${kind}.cues[${i}]`) })));
    this.negations = file.negations.map((n, i) => parsePattern(n, `${where}: negations[${i}]`));
    this.lead = Object.fromEntries(DANGER_KINDS.map((k) => [k, file.kinds[k].lead])) as Record<DangerKind, string[]>;
  }

  /** Loads and validates the file; `contactIds` are the catalogue's contacts, which every `lead` must name. */
  static load(path = CUES_FILE, contactIds?: string[]): DangerCues {
    const parsed = fileSchema.safeParse(readYaml(path));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CatalogueError(`${path}${issue.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue.message}`);
    }
    if (contactIds) {
      for (const kind of DANGER_KINDS) {
        const unknown = parsed.data.kinds[kind].lead.find((id) => !contactIds.includes(id));
        if (unknown) throw new CatalogueError(`${path}: kinds.${kind}.lead names ${unknown}, which is not in contacts.yaml`);
      }
    }
    return new DangerCues(parsed.data, path);
  }

  /** The first cue the text holds (kinds in the file's order), or undefined. */
  match(text: string): DangerMatch | undefined {
    const tokens = this.withoutNegations(cueWords(text));
    for (const { kind, pattern } of this.cues) {
      for (let at = 0; at < tokens.length; at++) if (matchAt(pattern.terms, tokens, at)) return { kind, cue: pattern.source };
    }
    return undefined;
  }

  matches(text: string): boolean {
    return this.match(text) !== undefined;
  }

  /** The words of the text with every certain "no" taken out; words a … skipped stay, so a cue among them is still heard. */
  private withoutNegations(tokens: string[]): string[] {
    const dropped = new Set<number>();
    for (const negation of this.negations) {
      for (let at = 0; at < tokens.length; at++) for (const i of matchAt(negation.terms, tokens, at) ?? []) dropped.add(i);
    }
    return tokens.filter((_, i) => !dropped.has(i));
  }
}
