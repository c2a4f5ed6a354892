/**
 * A case's clocks, in working time: the SLA to the operators' first and next
 * reply, and the opening of the line for a case that came out of hours.
 * Timers are durable in the store; every process fires the due ones, and each
 * timer is taken once.
 */
import { runtimeMetrics } from '../runtime/metrics.js';
import type { StaffAlerts } from './alerts.js';
import type { HandoffParts } from './deps.js';
import type { CaseTopic } from './topic.js';
import { auditEvent, type CaseTransitions } from './transitions.js';
import type { CaseRecord } from './types.js';

export class CaseTimers {
  constructor(
    private readonly deps: HandoffParts,
    private readonly transitions: CaseTransitions,
    private readonly topic: CaseTopic,
    private readonly alerts: StaffAlerts,
  ) {}

  /** The operators owe a first reply: the clock runs from `from` (now by default). */
  async startFirstResponse(caseId: string, from = this.deps.now()): Promise<void> {
    await this.deps.store.schedule(caseId, 'first_response', this.deps.config.hours.deadline(from, this.deps.config.firstResponseMinutes));
  }

  /** The family wrote in a conversation: the operator owes the next reply. */
  async startNextResponse(caseId: string): Promise<void> {
    await this.deps.store.schedule(caseId, 'next_response', this.deps.config.hours.deadline(this.deps.now(), this.deps.config.nextResponseMinutes));
  }

  /** A case opened out of hours joins the line when the operators come on duty. */
  async scheduleOpening(caseId: string, from: number): Promise<void> {
    await this.deps.store.schedule(caseId, 'opening', this.deps.config.hours.nextOpening(from));
  }

  /** A closed case has no clock. */
  async cancelAll(caseId: string): Promise<void> {
    for (const kind of ['first_response', 'next_response', 'opening'] as const) await this.deps.store.cancelTimer(caseId, kind);
  }

  /** Fires due SLA and opening timers. Run every few seconds by every process: each timer is taken once. */
  async fireDue(): Promise<number> {
    const due = await this.deps.store.takeDue(this.deps.now(), 50);
    for (const timer of due) {
      const rec = await this.deps.store.get(timer.caseId);
      // A closed case has no clock; a family who blocked the bot cannot be answered, so no breach either.
      if (!rec || rec.status === 'closed' || (rec.status === 'family_unreachable' && timer.kind !== 'opening')) continue;
      if (timer.kind === 'opening') {
        await this.joinLine(rec.id, 'system');
        continue;
      }
      await this.deps.store.audit(rec.id, auditEvent(this.deps.now, 'sla_breach', 'system', timer.kind));
      runtimeMetrics.slaBreaches.inc({ kind: timer.kind });
      await this.alerts.slaBreach(rec, timer.kind);
    }
    return due.length;
  }

  /** An out-of-hours case joins the waiting line (operators came on duty, or one took it) and its SLA clock starts. */
  async joinLine(caseId: string, by: string): Promise<CaseRecord | undefined> {
    const opened = await this.transitions.apply(caseId, { type: 'OPENING' }, auditEvent(this.deps.now, 'line_opened', by));
    if (!opened) return undefined;
    await this.deps.store.cancelTimer(caseId, 'opening');
    await this.startFirstResponse(caseId);
    await this.topic.refreshCard(opened);
    return opened;
  }
}
