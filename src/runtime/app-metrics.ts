/**
 * What /metrics shows: updates handled, dropped as duplicates and out of order, handler
 * errors, Telegram retries and failures by method, the waiting line of cases and
 * how long cases waited, SLA breaches, relay deliveries, the update inbox and the
 * relay outbox backlogs, dead letters, and the time each update took.
 */
import type { HandoffStore } from '../handoff/store.js';
import { updateDedupStats } from '../store/update-dedup.js';
import type { UpdateInbox } from './inbox.js';
import { Collected, MetricsRegistry, runtimeMetrics } from './metrics.js';

export interface MetricsSources {
  inbox: UpdateInbox;
  handoff?: HandoffStore;
}

export function createMetrics({ inbox, handoff }: MetricsSources): MetricsRegistry {
  const registry = new MetricsRegistry();
  registry.add(new Collected('qamqor_updates_handled_total', 'Updates handled (first deliveries, and re-runs of deliveries that never acted)', 'counter', () => updateDedupStats.handled));
  registry.add(
    new Collected('qamqor_updates_duplicate_total', 'Deliveries of an update already handled, dropped without acting, by what they found', 'counter', () => [
      [{ found: 'sent' }, updateDedupStats.dropped.sent],
      [{ found: 'done' }, updateDedupStats.dropped.done],
    ], ['found']),
  );
  registry.add(
    new Collected('qamqor_updates_out_of_order_total', 'Updates dropped because a later update of the same chat was already applied (across processes)', 'counter', () => updateDedupStats.outOfOrder),
  );
  registry.add(runtimeMetrics.handlerErrors);
  registry.add(runtimeMetrics.telegramFailures);
  registry.add(runtimeMetrics.deadLetters);
  registry.add(runtimeMetrics.updateSeconds);
  registry.add(runtimeMetrics.telegramRetries);
  registry.add(runtimeMetrics.relayDeliveries);
  registry.add(runtimeMetrics.slaBreaches);
  registry.add(runtimeMetrics.caseWaitSeconds);
  registry.add(new Collected('qamqor_updates_in_hand', 'Updates this process has queued or running', 'gauge', () => inbox.inHand));
  registry.add(new Collected('qamqor_inbox_backlog', 'Updates recorded and not yet handled, over every process', 'gauge', () => inbox.backlog()));
  if (handoff) {
    registry.add(new Collected('qamqor_cases_waiting', 'Cases in the waiting line', 'gauge', async () => (await handoff.stats(Date.now())).waitingNow));
    registry.add(new Collected('qamqor_relay_outbox_backlog', 'Relayed messages recorded and not yet delivered', 'gauge', () => handoff.relayBacklog()));
  }
  return registry;
}
