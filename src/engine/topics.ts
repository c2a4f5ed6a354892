/**
 * Life-event topics (flows/catalogue/topics.yaml). A question closed by the
 * topics screen: the family answered `topics`, the question belongs to topics
 * and none of them is ticked, and it was not answered. Without a `topics`
 * answer nothing is closed (SPEC §4: a situation without it is screened as before).
 */
import type { FactDef, Facts } from './types.js';

export function topicClosed(fact: string, ctx: { facts: Facts; factDefs: Map<string, FactDef> }): boolean {
  const ticked = ctx.facts.topics;
  const of = ctx.factDefs.get(fact)?.topics;
  return Array.isArray(ticked) && of !== undefined && ctx.facts[fact] === undefined && !of.some((t) => ticked.includes(t));
}
