/**
 * Questions asked together (facts.yaml `ask: together`): the yes/no status
 * questions of the ticked topics (pension age without a pension, Lists 1–2,
 * a child with a disability, …) share one "which of these apply to anyone in
 * your family?" screen. Ticking says "yes", leaving a line unticked says "no",
 * "don't know" says unknown for all of them: one tap instead of one per question.
 * Which questions are pending stays `nextQuestions`' to say; this only groups
 * them into screens, the together ones where the first of them comes.
 */
import { nextQuestions } from './evaluate.js';
import type { Catalogue, Facts } from './types.js';

/** The pending questions as screens, in asking order: one per question, the `together` ones on one screen. */
export function screensOf(pending: string[], catalogue: Catalogue): string[][] {
  const together = new Set(catalogue.facts.filter((f) => f.ask === 'together').map((f) => f.id));
  const screens: string[][] = [];
  let shared: string[] | undefined;
  for (const id of pending) {
    if (!together.has(id)) screens.push([id]);
    else if (shared) shared.push(id);
    else screens.push((shared = [id]));
  }
  return screens;
}

/** The questions of the next screen: none when nothing is left to ask. */
export function nextScreen(facts: Facts, catalogue: Catalogue, date: string): string[] {
  return screensOf(nextQuestions(facts, catalogue, date), catalogue)[0] ?? [];
}
