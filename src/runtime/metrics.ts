/**
 * /metrics in the Prometheus text format (version 0.0.4), written here because
 * prom-client is not installed yet: counters, gauges read when scraped, and one
 * histogram. Names and labels are those prom-client would give, so swapping it
 * in later changes no dashboard. Labels carry method names and kinds, never ids.
 */

type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
};

interface Metric {
  render(): Promise<string[]>;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  async render(): Promise<string[]> {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines;
  }
}

/** A value read at scrape time (a counter kept elsewhere, a Redis length). A failed read leaves the metric out. */
export class Collected implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter',
    private readonly read: () => number | Promise<number> | Promise<[Labels, number][]> | [Labels, number][],
  ) {}

  async render(): Promise<string[]> {
    let value: number | [Labels, number][];
    try {
      value = await this.read();
    } catch {
      return [];
    }
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (typeof value === 'number') lines.push(`${this.name} ${value}`);
    else for (const [labels, v] of value) lines.push(`${this.name}${labelText(labels)} ${v}`);
    return lines;
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(seconds: number, labels: Labels = {}): void {
    const key = labelText(labels);
    const s = this.series.get(key) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((upper, i) => {
      if (seconds <= upper) s.counts[i]!++;
    });
    s.sum += seconds;
    s.count++;
    this.series.set(key, s);
  }

  async render(): Promise<string[]> {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((upper, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(upper) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  async render(): Promise<string> {
    const parts = await Promise.all(this.metrics.map((m) => m.render()));
    return `${parts.flat().join('\n')}\n`;
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The process's own counters, incremented where things happen. */
export const runtimeMetrics = {
  handlerErrors: new Counter('qamqor_update_handler_errors_total', 'Updates whose handling failed (the family was told kindly)'),
  telegramFailures: new Counter('qamqor_telegram_call_failures_total', 'Bot API calls that failed after retries, by method'),
  updateSeconds: new Histogram('qamqor_update_duration_seconds', 'Time from taking an update out of the inbox to the end of its handling', [
    0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
  ]),
  deadLetters: new Counter('qamqor_dead_letters_total', 'Updates and relays given up after repeated failures, by what'),
};
