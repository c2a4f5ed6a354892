import { describe, expect, it } from 'vitest';
import { MemoryHandoffStore } from '../../src/handoff/memory-store.js';
import { createMetrics } from '../../src/runtime/app-metrics.js';
import { MemoryInbox } from '../../src/runtime/inbox.js';
import { Collected, Counter, Histogram, MetricsRegistry } from '../../src/runtime/metrics.js';

describe('Prometheus text (prom-client)', () => {
  it('counters, histograms and labels as Prometheus reads them; a failed read leaves the metric out', async () => {
    const registry = new MetricsRegistry();
    const calls = registry.add(new Counter('t_calls_total', 'Calls', ['method']));
    calls.inc({ method: 'sendMessage' });
    calls.inc({ method: 'sendMessage' });
    calls.inc({ method: 'odd "name"\\' });
    const h = registry.add(new Histogram('t_seconds', 'Time', [0.1, 1], ['kind']));
    h.observe(0.05, { kind: 'message' });
    h.observe(0.5, { kind: 'message' });
    h.observe(5, { kind: 'message' });
    registry.add(new Collected('t_broken', 'Unreadable', 'gauge', (): Promise<number> => Promise.reject(new Error('redis away'))));
    const text = await registry.render();
    expect(text).toContain('# TYPE t_calls_total counter\nt_calls_total{method="sendMessage"} 2\nt_calls_total{method="odd \\"name\\"\\\\"} 1');
    expect(text).toContain('t_seconds_bucket{le="0.1",kind="message"} 1\nt_seconds_bucket{le="1",kind="message"} 2\nt_seconds_bucket{le="+Inf",kind="message"} 3');
    expect(text).toContain('t_seconds_sum{kind="message"} 5.55\nt_seconds_count{kind="message"} 3');
    expect(text).not.toContain('t_broken');
    expect(text.endsWith('\n')).toBe(true);
  });

  it("the bot's registry reads the inbox and the handoff store", async () => {
    const store = new MemoryHandoffStore();
    await store.recordRelay({ key: 'f1', caseId: 'C1', direction: 'to_operators', fromChatId: 1, messageId: 1 });
    const text = await createMetrics({ inbox: new MemoryInbox(), handoff: store }).render();
    for (const name of ['qamqor_updates_handled_total', 'qamqor_updates_duplicate_total{found="sent"}', 'qamqor_inbox_backlog 0', 'qamqor_cases_waiting 0', 'qamqor_relay_outbox_backlog 1', '# TYPE qamqor_handoff_sla_breaches_total counter', '# TYPE qamqor_case_wait_seconds histogram', '# TYPE qamqor_telegram_retries_total counter', '# TYPE qamqor_relay_deliveries_total counter']) {
      expect(text).toContain(name);
    }
  });
});
