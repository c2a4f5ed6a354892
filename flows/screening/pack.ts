/**
 * The stored form of a screening snapshot. The machine's `history` names every
 * answered fact again, in the order of the screens (flows/screening/history.ts);
 * every one of them is also a key of `facts` in the same snapshot. Stored, each
 * entry is the position of its facts among those keys instead (a screen of one
 * question: a number; a screen of several: an array), which is about a third of
 * a long dialog's bytes. An entry that is not a key (never written so) stays as
 * it is, and a snapshot stored before this form unpacks unchanged.
 */
import { entryOf, factsOf } from './history.js';

type Packed = number | number[] | string;

interface WithHistory {
  context: { facts: Record<string, unknown>; history: unknown[] };
}

function hasHistory(snapshot: unknown): snapshot is WithHistory {
  const context = (snapshot as { context?: unknown } | null)?.context as WithHistory['context'] | undefined;
  return typeof context?.facts === 'object' && context.facts !== null && Array.isArray(context.history);
}

export function packSnapshot<S>(snapshot: S): S {
  if (!hasHistory(snapshot)) return snapshot;
  const position = new Map(Object.keys(snapshot.context.facts).map((id, i) => [id, i]));
  const history = snapshot.context.history.map((entry): Packed => {
    if (typeof entry !== 'string') return entry as Packed;
    const at = factsOf(entry).map((id) => position.get(id));
    if (at.some((i) => i === undefined)) return entry;
    return at.length === 1 ? at[0]! : (at as number[]);
  });
  return { ...snapshot, context: { ...snapshot.context, history } };
}

export function unpackSnapshot<S>(snapshot: S): S {
  if (!hasHistory(snapshot)) return snapshot;
  const keys = Object.keys(snapshot.context.facts);
  const idOf = (i: unknown) => (typeof i === 'number' ? keys[i] : undefined);
  const history = snapshot.context.history.map((entry) => {
    if (typeof entry === 'number') return idOf(entry) ?? String(entry);
    if (Array.isArray(entry)) return entryOf(entry.map((i) => idOf(i) ?? String(i)));
    return entry;
  });
  return { ...snapshot, context: { ...snapshot.context, history } };
}
