/**
 * Live screening actors of the chats this process handled lately, each with the
 * stored snapshot it stands for. An update whose stored dialog is exactly that
 * snapshot continues the live actor instead of restoring one: XState's restore and
 * start are a large part of the machine's cost per answer. Whatever any process
 * did to the chat since, the stored dialog then differs and the actor is restored
 * from it as before, so the processes stay stateless.
 *
 * In memory only, bounded (`capacity` chats), and dropped after `idleMs` unused,
 * so answers do not linger in a process after the family moved on or said /forget.
 */
import type { Actor, AnyActorLogic } from 'xstate';

interface Warm<A> {
  actor: A;
  json: string;
  usedAt: number;
}

export class WarmActors<L extends AnyActorLogic> {
  private readonly byChat = new Map<string, Warm<Actor<L>>>();

  constructor(
    private readonly capacity = 2_000,
    private readonly idleMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The live actor for `chatKey` if it stands for exactly `json`; it is then the caller's (taken out). */
  take(chatKey: string, json: string): Actor<L> | undefined {
    const warm = this.byChat.get(chatKey);
    if (!warm) return undefined;
    this.byChat.delete(chatKey);
    if (warm.json !== json || this.now() - warm.usedAt > this.idleMs) {
      warm.actor.stop();
      return undefined;
    }
    return warm.actor;
  }

  /** Keeps `actor`, whose persisted snapshot is stored as `json`, for the chat's next update. */
  keep(chatKey: string, actor: Actor<L>, json: string): void {
    this.drop(chatKey);
    const now = this.now();
    this.byChat.set(chatKey, { actor, json, usedAt: now });
    // Oldest first (a Map keeps insertion order): over capacity or idle too long.
    for (const [key, warm] of this.byChat) {
      if (this.byChat.size <= this.capacity && now - warm.usedAt <= this.idleMs) break;
      this.drop(key);
    }
  }

  drop(chatKey: string): void {
    this.byChat.get(chatKey)?.actor.stop();
    this.byChat.delete(chatKey);
  }

  get size(): number {
    return this.byChat.size;
  }
}
