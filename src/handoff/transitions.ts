/**
 * Case status changes: only the handoff machine decides them, and each is
 * written compare-and-set, so two processes never both change one case.
 */
import { createActor, type SnapshotFrom } from 'xstate';
import { handoffMachine, statusOf, type HandoffEvent } from '../../flows/handoff/machine.js';
import type { HandoffStore } from './store.js';
import type { AuditEvent, CaseRecord } from './types.js';

type Snapshot = SnapshotFrom<typeof handoffMachine>;

export type Transition = { status: CaseRecord['status']; snapshot: unknown; fields: Partial<CaseRecord> };

/** One line of a case's audit trail, stamped now. */
export function auditEvent(now: () => number, type: string, by: string, detail?: string): AuditEvent {
  return { type, by, at: now(), ...(detail ? { detail } : {}) };
}

export class CaseTransitions {
  constructor(
    private readonly store: HandoffStore,
    private readonly now: () => number,
  ) {}

  /** Where a new case starts: waiting when operators are on duty, out of hours otherwise. */
  initial(onDuty: boolean): { status: CaseRecord['status']; snapshot: unknown } {
    const actor = createActor(handoffMachine, { input: { onDuty } }).start();
    const snapshot = actor.getPersistedSnapshot();
    const value = actor.getSnapshot().value;
    actor.stop();
    return { status: statusOf(value), snapshot };
  }

  /** What the machine says an event does to a case; undefined when it does nothing. */
  transition(rec: CaseRecord, event: HandoffEvent): Transition | undefined {
    const actor = createActor(handoffMachine, { snapshot: rec.snapshot as Snapshot, input: { onDuty: true } }).start();
    const before = actor.getSnapshot();
    actor.send(event);
    const after = actor.getSnapshot();
    const snapshot = actor.getPersistedSnapshot();
    actor.stop();
    if (after === before) return undefined;
    const fields: Partial<CaseRecord> = { operatorId: after.context.operatorId ?? undefined };
    if (after.context.outcome) fields.outcome = after.context.outcome;
    if (after.value === 'closed') fields.closedAt = this.now();
    return { status: statusOf(after.value), snapshot, fields };
  }

  /** Applies one machine event to a case, compare-and-set; retries on a concurrent change. */
  async apply(caseId: string, event: HandoffEvent, audit: AuditEvent, fields: Partial<CaseRecord> = {}): Promise<CaseRecord | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const rec = await this.store.get(caseId);
      if (!rec) return undefined;
      const next = this.transition(rec, event);
      if (!next) return undefined; // the machine refused: nothing changes
      const updated = await this.store.update(caseId, rec.version, { status: next.status, snapshot: next.snapshot, fields: { ...fields, ...next.fields } }, audit);
      if (updated) return updated;
    }
    throw new Error(`case ${caseId}: too many concurrent changes`);
  }
}
