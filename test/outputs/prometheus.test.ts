import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { OperationRecorder, operationsReport } from '../../src/metrics/recorder.js';
import { buildRegistry, serveMetrics, LATENCY_BUCKETS_S, type MetricsEndpoint } from '../../src/outputs/prometheus.js';
import type { LiveView } from '../../src/engine/live.js';

function view(): LiveView {
  const rec = new OperationRecorder();
  // 100 checks at 1..100 ms, 3 of them failed; 10 downloads at 2 s.
  for (let i = 1; i <= 100; i++) rec.record('check', i <= 3 ? 'http:503' : 'errno:0', i <= 3, 0, 0, i);
  for (let i = 0; i < 10; i++) rec.record('download', 'bytes', false, 0, 0, 2000);
  return { operations: operationsReport(rec.snapshot()), states: { asleep: 5, downloading: 7 } };
}

const line = (text: string, prefix: string): number => {
  const found = text.split('\n').find((l) => l.startsWith(prefix));
  if (!found) throw new Error(`no line ${prefix}\n${text}`);
  return Number(found.slice(prefix.length).trim());
};

describe('Prometheus exposition', () => {
  it('exposes counters by outcome, devices by state and cumulative latency buckets read off the HdrHistograms', async () => {
    const text = await buildRegistry(view).metrics();
    expect(line(text, 'ota_swarm_requests{operation="check",outcome="errno:0"}')).toBe(97);
    expect(line(text, 'ota_swarm_requests{operation="check",outcome="http:503"}')).toBe(3);
    expect(line(text, 'ota_swarm_errors{operation="check"}')).toBe(3);
    expect(line(text, 'ota_swarm_devices{state="downloading"}')).toBe(7);
    // Buckets are cumulative: ≤10 ms holds the checks of 1..10 ms, ≤50 ms those of 1..50 ms.
    expect(line(text, 'ota_swarm_latency_seconds_bucket{operation="check",le="0.01"}')).toBe(10);
    expect(line(text, 'ota_swarm_latency_seconds_bucket{operation="check",le="0.05"}')).toBe(50);
    expect(line(text, 'ota_swarm_latency_seconds_bucket{operation="check",le="0.1"}')).toBe(100);
    expect(line(text, 'ota_swarm_latency_seconds_bucket{operation="check",le="+Inf"}')).toBe(100);
    expect(line(text, 'ota_swarm_latency_seconds_count{operation="check"}')).toBe(100);
    expect(line(text, 'ota_swarm_latency_seconds_sum{operation="check"}')).toBeCloseTo(5.05, 1);
    expect(line(text, 'ota_swarm_latency_seconds_bucket{operation="download",le="1"}')).toBe(0);
    expect(line(text, 'ota_swarm_latency_seconds_bucket{operation="download",le="2.5"}')).toBe(10);
    // Buckets never decrease.
    const checkBuckets = LATENCY_BUCKETS_S.map((le) => line(text, `ota_swarm_latency_seconds_bucket{operation="check",le="${le}"}`));
    expect([...checkBuckets].sort((a, b) => a - b)).toEqual(checkBuckets);
  });

  let endpoint: MetricsEndpoint | undefined;
  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });

  it('serves /metrics on loopback and nothing else', async () => {
    endpoint = await serveMetrics(0, view);
    expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const ok = await request(endpoint.url);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toContain('text/plain');
    expect(await ok.body.text()).toContain('ota_swarm_latency_seconds_bucket');
    const other = await request(endpoint.url.replace('/metrics', '/'));
    expect(other.statusCode).toBe(404);
    await other.body.dump();
  });

  it('a port in use is a one-line error naming the flag', async () => {
    endpoint = await serveMetrics(0, view);
    const port = Number(new URL(endpoint.url).port);
    await expect(serveMetrics(port, view)).rejects.toThrow(`--metrics-port: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
  });
});

describe('Prometheus exposition of a fleet slice', () => {
  it('labels every series with the shard, so one Prometheus sums the shards', async () => {
    const text = await buildRegistry(view, { shard: '2', shards: '4' }).metrics();
    expect(line(text, 'ota_swarm_requests{operation="check",outcome="errno:0",shard="2",shards="4"}')).toBe(97);
    expect(line(text, 'ota_swarm_latency_seconds_bucket{operation="check",le="0.01",shard="2",shards="4"}')).toBe(10);
    expect(line(text, 'ota_swarm_devices{state="asleep",shard="2",shards="4"}')).toBe(5);
    // Every sample line carries them.
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.length).toBeGreaterThan(10);
    for (const s of samples) expect(s).toContain('shard="2",shards="4"');
  });
});
