/**
 * `--metrics-port P`: a Prometheus endpoint for watching a long soak in Grafana. Exposition by
 * prom-client's Registry; the values come from the run's live view at scrape time: counters of
 * requests by operation and outcome, devices by state, and latency histograms whose buckets are
 * read off the merged HdrHistograms (exact counts at each bound, nothing sampled twice).
 */
import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import type { LiveView } from '../engine/live.js';
import { LatencyHistogram } from '../metrics/histogram.js';

/** Bucket bounds in seconds, from 1 ms to 60 s. */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Value = { labels: Record<string, string | number>; value: number; metricName?: string };

/** A metric computed at scrape time, in the shape prom-client's Registry formats. */
class ComputedMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly values: () => Value[],
  ) {}
  async get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: 'sum' };
  }
  reset(): void {}
}

/** The latency histogram of every operation as Prometheus buckets (cumulative, seconds). */
export function histogramValues(name: string, view: LiveView): Value[] {
  const values: Value[] = [];
  for (const [operation, op] of Object.entries(view.operations)) {
    const h = LatencyHistogram.decode(op.histogram);
    const counts = h.countsAtOrBelow(LATENCY_BUCKETS_S.map((s) => s * 1000));
    LATENCY_BUCKETS_S.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { operation, le }, value: counts[i] as number }));
    values.push({ metricName: `${name}_bucket`, labels: { operation, le: '+Inf' }, value: h.count });
    values.push({ metricName: `${name}_sum`, labels: { operation }, value: (op.latencyMs.mean * h.count) / 1000 });
    values.push({ metricName: `${name}_count`, labels: { operation }, value: h.count });
  }
  return values;
}

/**
 * `labels` go on every series (a fleet slice's `shard` and `shards`, so one Prometheus scraping
 * every slice sums them: docs/scale-out.md has the PromQL).
 */
export function buildRegistry(view: () => LiveView, labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  if (Object.keys(labels).length > 0) registry.setDefaultLabels(labels);
  const metrics = [
    new ComputedMetric('ota_swarm_requests', 'Requests answered or failed, by operation and outcome', 'counter', () =>
      Object.entries(view().operations).flatMap(([operation, op]) =>
        Object.entries(op.byOutcome).map(([outcome, n]) => ({ labels: { operation, outcome }, value: n })),
      ),
    ),
    new ComputedMetric('ota_swarm_errors', 'Requests that failed (transport, 5xx, unreadable), by operation', 'counter', () =>
      Object.entries(view().operations).map(([operation, op]) => ({ labels: { operation }, value: op.errors })),
    ),
    new ComputedMetric('ota_swarm_devices', 'Devices by state', 'gauge', () =>
      Object.entries(view().states).map(([state, n]) => ({ labels: { state }, value: n })),
    ),
    new ComputedMetric('ota_swarm_latency_seconds', 'Latency from the moment the device meant to act, by operation', 'histogram', () =>
      histogramValues('ota_swarm_latency_seconds', view()),
    ),
  ];
  for (const m of metrics) registry.registerMetric(m as never);
  return registry;
}

export interface MetricsEndpoint {
  url: string;
  close(): Promise<void>;
}

/** Serves `/metrics` on loopback (or `host`: a pod's 0.0.0.0, for its Service). */
export async function serveMetrics(port: number, view: () => LiveView, host = '127.0.0.1', labels: Record<string, string> = {}): Promise<MetricsEndpoint> {
  const registry = buildRegistry(view, labels);
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
      .catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`--metrics-port: cannot listen on ${host}:${port} (${err.code ?? err.message})`)));
    server.listen(port, host, resolve);
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://${host}:${addr.port}/metrics`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
