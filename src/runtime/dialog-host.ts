/**
 * The actor host: for one chat, load the persisted dialog, restore the machine,
 * send one event, persist the new snapshot, and hand the state to the renderer.
 * Callers serialise calls per chat (the chat lock). The stored dialog is the truth:
 * a live actor kept from this chat's last update (warm-actors.ts) is used only when
 * the stored dialog is exactly the one it stands for, so any process can take the
 * next update of any chat.
 */
import { createActor, type SnapshotFrom } from 'xstate';
import { migrateAnswers } from '../../flows/screening/migrate.js';
import { packSnapshot, unpackSnapshot } from '../../flows/screening/pack.js';
import {
  createScreeningMachine,
  SCREENING_FLOW,
  SCREENING_FLOW_VERSION,
  type ScreeningEvent,
  type ScreeningMachine,
} from '../../flows/screening/machine.js';
import type { Catalogue } from '../engine/types.js';
import type { DialogStore } from '../store/dialog-store.js';
import { WarmActors } from './warm-actors.js';

export type ScreeningSnapshot = SnapshotFrom<ScreeningMachine>;

export interface HostNotice {
  /** The saved dialog was written by an older flow: these answers must be asked again. */
  migrated?: { dropped: string[] };
}

export interface Step {
  snapshot: ScreeningSnapshot;
  /** True when the event changed nothing (a guard refused it). */
  unchanged: boolean;
  notice: HostNotice;
  /** True when there was no saved dialog before this step. */
  fresh: boolean;
}

export class DialogHost {
  readonly machine: ScreeningMachine;
  private readonly warm = new WarmActors<ScreeningMachine>();

  constructor(
    private readonly store: DialogStore,
    private readonly catalogue: Catalogue,
    private readonly today: () => string,
  ) {
    this.machine = createScreeningMachine(catalogue);
  }

  /** The chat's current state, restored (and migrated if need be) but not changed. */
  async current(chatKey: string): Promise<Step> {
    return this.step(chatKey, undefined);
  }

  /** Sends one event and persists the result. */
  async send(chatKey: string, event: ScreeningEvent): Promise<Step> {
    return this.step(chatKey, event);
  }

  async exists(chatKey: string): Promise<boolean> {
    return (await this.store.load(chatKey)) !== undefined;
  }

  async forget(chatKey: string): Promise<void> {
    this.warm.drop(chatKey);
    await this.store.delete(chatKey);
  }

  private async step(chatKey: string, event: ScreeningEvent | undefined): Promise<Step> {
    const record = await this.store.load(chatKey);
    const notice: HostNotice = {};
    let actor;
    let storedJson: string | undefined;
    if (record && record.flow === SCREENING_FLOW && record.flowVersion === SCREENING_FLOW_VERSION) {
      storedJson = JSON.stringify(record.snapshot);
      actor =
        this.warm.take(chatKey, storedJson) ??
        createActor(this.machine, { snapshot: unpackSnapshot(record.snapshot) as ScreeningSnapshot, input: { date: this.today() } });
    } else if (record) {
      // Written by another version of the flow: keep what answers we can and restart the questions from there.
      const migrated = migrateAnswers(unpackSnapshot(record.snapshot), this.catalogue);
      notice.migrated = { dropped: migrated.dropped };
      actor = createActor(this.machine, { input: { date: migrated.date ?? this.today(), facts: migrated.facts } });
      actor.start();
      if (Object.keys(migrated.facts).length) actor.send({ type: 'CONSENT' }); // answers exist only after consent
    } else {
      actor = createActor(this.machine, { input: { date: this.today() } });
    }
    actor.start(); // idempotent; a restored actor is not running until started
    const before = actor.getSnapshot();
    if (event) actor.send(event);
    const snapshot = actor.getSnapshot();
    const unchanged = snapshot === before;
    // A chat that only looked is not stored: nothing of a family is kept before they act, and an
    // expired dialog stays missing until they start again, so they can be told it expired.
    const persisted = !unchanged || notice.migrated ? packSnapshot(actor.getPersistedSnapshot()) : undefined;
    if (persisted) {
      // Kept before the save: a save that never reaches Redis leaves another dialog stored, which the next update sees.
      this.warm.keep(chatKey, actor, JSON.stringify(persisted));
      await this.store.save(chatKey, { flow: SCREENING_FLOW, flowVersion: SCREENING_FLOW_VERSION, snapshot: persisted, updatedAt: Date.now() });
    } else if (storedJson !== undefined) {
      this.warm.keep(chatKey, actor, storedJson);
    } else {
      actor.stop();
    }
    return { snapshot, unchanged, notice, fresh: !record };
  }
}
