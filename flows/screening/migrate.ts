/**
 * Carrying a family's answers across a change of the screening flow. Answers
 * are keyed by stable fact ids: those the current catalogue still knows, with
 * values it still accepts, are kept; the rest are reported so the family can be
 * told what will be asked again. Never a silent reset.
 */
import { normaliseValue } from '../../src/engine/facts.js';
import type { Catalogue, Facts } from '../../src/engine/types.js';

export interface Migrated {
  facts: Facts;
  date: string | undefined;
  /** Fact ids whose answers could not be kept. */
  dropped: string[];
}

/** Reads the answers out of any earlier version's persisted snapshot. */
export function migrateAnswers(snapshot: unknown, catalogue: Catalogue): Migrated {
  const context = (snapshot as { context?: { facts?: unknown; date?: unknown } } | null)?.context;
  const old = context?.facts && typeof context.facts === 'object' ? (context.facts as Record<string, unknown>) : {};
  const defs = new Map(catalogue.facts.map((f) => [f.id, f]));
  const facts: Facts = {};
  const dropped: string[] = [];
  for (const [id, raw] of Object.entries(old)) {
    const def = defs.get(id);
    const value = def ? normaliseValue(def, raw, catalogue) : undefined;
    if (value === undefined) dropped.push(id);
    else facts[id] = value;
  }
  return { facts, date: typeof context?.date === 'string' ? context.date : undefined, dropped };
}
