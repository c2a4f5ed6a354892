/**
 * The screens a family answered, in order, for Back (the machine's `history`):
 * each entry is one fact id, or the ids of questions answered together on one
 * screen joined with "+" (fact ids are [a-z0-9_], so "+" cannot be part of one).
 */
export const entryOf = (facts: readonly string[]): string => facts.join('+');

export const factsOf = (entry: string): string[] => entry.split('+');

/** The history without these facts: answered again on another screen, or reopened. A screen left with none is dropped. */
export function withoutFacts(history: readonly string[], ids: Iterable<string>): string[] {
  const drop = new Set(ids);
  return history.map((e) => factsOf(e).filter((f) => !drop.has(f))).filter((fs) => fs.length > 0).map(entryOf);
}
