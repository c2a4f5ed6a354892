/**
 * /metrics in the Prometheus text format, on prom-client: counters, one
 * histogram, and values read when scraped (Redis lengths, counters kept
 * elsewhere). Labels carry method names and kinds, never ids.
 */
import { Counter as PromCounter, Gauge, Histogram as PromHistogram, Registry, type Metric } from 'prom-client';

type Labels = Record<string, string>;

interface Registered {
  /** The prom-client metric to expose, refreshed first when its value is read at scrape time. */
  collect(): Promise<Metric>;
}

export class Counter implements Registered {
  private readonly metric: PromCounter;
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    this.metric = new PromCounter({ name, help, labelNames, registers: [] });
  }

  inc(labels: Labels = {}, by = 1): void {
    this.metric.inc(labels, by);
  }

  /** The count for these labels (for tests and the CLI). */
  async value(labels: Labels = {}): Promise<number> {
    const { values } = await this.metric.get();
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && Object.keys(v.labels).length === Object.keys(labels).length)?.value ?? 0;
  }

  async collect(): Promise<Metric> {
    return this.metric;
  }
}

export class Histogram implements Registered {
  private readonly metric: PromHistogram;
  constructor(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []) {
    this.metric = new PromHistogram({ name, help, buckets: [...buckets], labelNames, registers: [] });
  }

  observe(seconds: number, labels: Labels = {}): void {
    this.metric.observe(labels, seconds);
  }

  async collect(): Promise<Metric> {
    return this.metric;
  }
}

type Reading = number | [Labels, number][];

/** A value read at scrape time (a counter kept elsewhere, a Redis length). A failed read leaves the metric out. */
export class Collected implements Registered {
  private readonly metric: Gauge | PromCounter;
  constructor(
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    private readonly read: () => Reading | Promise<Reading>,
    labelNames: readonly string[] = [],
  ) {
    const options = { name, help, labelNames, registers: [] };
    this.metric = type === 'gauge' ? new Gauge(options) : new PromCounter(options);
  }

  /** Throws when the value cannot be read (Redis away): the registry then leaves this metric out. */
  async collect(): Promise<Metric> {
    const value = await this.read();
    this.metric.reset();
    for (const [labels, v] of typeof value === 'number' ? ([[{}, value]] as [Labels, number][]) : value) {
      if (this.metric instanceof Gauge) this.metric.set(labels, v);
      else this.metric.inc(labels, v);
    }
    return this.metric;
  }
}

export class MetricsRegistry {
  private readonly metrics: Registered[] = [];

  add<M extends Registered>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  /** One scrape: every metric whose value could be read, in the order added. */
  async render(): Promise<string> {
    const scrape = new Registry();
    const read = await Promise.allSettled(this.metrics.map((m) => m.collect()));
    for (const r of read) if (r.status === 'fulfilled') scrape.registerMetric(r.value);
    return scrape.metrics();
  }
}

export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** The process's own counters, incremented where things happen. */
export const runtimeMetrics = {
  handlerErrors: new Counter('qamqor_update_handler_errors_total', 'Updates whose handling failed (the family was told kindly)'),
  telegramFailures: new Counter('qamqor_telegram_call_failures_total', 'Bot API calls that failed after retries, by method', ['method']),
  updateSeconds: new Histogram(
    'qamqor_update_duration_seconds',
    'Time from taking an update out of the inbox to the end of its handling',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ['kind'],
  ),
  deadLetters: new Counter('qamqor_dead_letters_total', 'Updates and relays given up after repeated failures, by what', ['what']),
  telegramRetries: new Counter('qamqor_telegram_retries_total', 'Bot API calls tried again (429 or a network blip), by method', ['method']),
  relayDeliveries: new Counter('qamqor_relay_deliveries_total', 'Relayed messages between a family and the operators, by direction and result (delivered, retry)', ['direction', 'result']),
  slaBreaches: new Counter('qamqor_handoff_sla_breaches_total', 'Cases that waited past the SLA, by kind (first_response, next_response)', ['kind']),
  caseWaitSeconds: new Histogram('qamqor_case_wait_seconds', 'Time from a case entering the waiting line to an operator taking it', [30, 60, 120, 300, 600, 900, 1800, 3600, 7200], ['urgent']),
};
