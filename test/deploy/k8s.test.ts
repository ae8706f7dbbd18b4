/**
 * The manifests `ota-swarm k8s` prints, validated against the Kubernetes API schemas with
 * kubernetes-models (a test-only dependency: no cluster runs here), and checked for what the
 * schemas cannot say: only fields Kubernetes 1.28 has, names and labels Kubernetes accepts, one
 * Service per pod selecting that pod, and every shard's folder merged.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { dnsName, k8sManifests, shardMemoryBytes, type K8sPlan } from '../../src/deploy/k8s.js';
import { runK8s, type K8sArgs } from '../../src/cli/k8s-command.js';
import { estimateRunBytes } from '../../src/engine/capacity.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap: ConfigMap as never,
  PersistentVolumeClaim: PersistentVolumeClaim as never,
  Job: Job as never,
  Service: Service as never,
};

/** JobSpec and PodSpec fields GA (or on by default) in Kubernetes 1.28. */
const JOB_SPEC_1_28 = new Set(['activeDeadlineSeconds', 'backoffLimit', 'completionMode', 'completions', 'manualSelector', 'parallelism', 'podFailurePolicy', 'selector', 'suspend', 'template', 'ttlSecondsAfterFinished']);
const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

const plan = (over: Partial<K8sPlan> = {}): K8sPlan => ({
  name: 'rollout-onenet',
  image: 'registry.example/ota-swarm:0.1.0',
  shards: 10,
  scenarioText: 'name: rollout-onenet\n',
  fleetDevices: 1_000_003,
  timeScale: 1,
  maxDurationMs: 3_600_000,
  target: 'http://ota.example.svc:8080',
  allowRemote: true,
  startAt: '2026-12-01T13:00:00.000Z',
  cpu: 4,
  secret: 'ota-keys',
  runArgs: ['--seed', '7'],
  ...over,
});

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function validateAll(objs: Obj[]): void {
  for (const o of objs) {
    const Model = MODELS[o['kind'] as string];
    if (!Model) throw new Error(`no model for ${o['kind']}`);
    expect(() => new Model(o as never).validate(), `${o['kind']} ${o['metadata']?.name}`).not.toThrow();
    expect(o['metadata'].name.length).toBeLessThanOrEqual(63);
    expect(o['metadata'].name).toMatch(DNS_LABEL);
  }
}

describe('Kubernetes manifests', () => {
  it('pass the Kubernetes schemas', () => {
    const objs = k8sManifests(plan()) as Obj[];
    expect(objs.map((o) => o['kind'])).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'Job', ...Array<string>(10).fill('Service'), 'Job']);
    validateAll(objs);
    validateAll(k8sManifests(plan({ shards: 1, target: undefined, allowRemote: false, secret: undefined, namespace: 'load', storageClass: 'nfs', timeScale: 'max' })) as Obj[]);
  });

  it('the schemas catch a broken manifest (the validation is real)', () => {
    const job = (k8sManifests(plan()) as Obj[])[2]!;
    job['spec'].parallelism = 'ten';
    expect(() => new Job(job as never).validate()).toThrow();
  });

  it('runs an Indexed Job of N pods with only Kubernetes 1.28 fields, each pod a slice at one agreed start', () => {
    const job = (k8sManifests(plan()) as Obj[])[2]!;
    for (const key of Object.keys(job['spec'])) expect(JOB_SPEC_1_28.has(key), key).toBe(true);
    expect(job['spec']).toMatchObject({ completionMode: 'Indexed', completions: 10, parallelism: 10, backoffLimit: 0 });
    const c = job['spec'].template.spec.containers[0];
    expect(c.env).toContainEqual({ name: 'OTA_SWARM_SHARDS', value: '10' });
    expect(c.env).toContainEqual({ name: 'OTA_SWARM_START_AT', value: '2026-12-01T13:00:00.000Z' });
    expect(c.env).toContainEqual({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } });
    expect(c.envFrom).toEqual([{ secretRef: { name: 'ota-keys' } }]);
    expect(c.args.slice(0, 4)).toEqual(['run', '/scenario/scenario.yaml', '--out', '/reports/shard-$(JOB_COMPLETION_INDEX)']);
    expect(c.args).toEqual(expect.arrayContaining(['--metrics-port', '9464', '--metrics-host', '0.0.0.0', '--target', 'http://ota.example.svc:8080', '--allow-remote', '--seed', '7', '--workers', '3']));
    expect(job['spec'].template.spec.restartPolicy).toBe('Never');
    // The Dockerfile's USER node (1000) can write the reports volume.
    expect(job['spec'].template.spec.securityContext).toMatchObject({ runAsUser: 1000, fsGroup: 1000 });
  });

  it('sizes each pod\'s memory from its slice (devices per shard × bytes per device, the run\'s own estimate)', () => {
    const p = plan();
    const perShard = Math.ceil(1_000_003 / 10);
    expect(shardMemoryBytes(p)).toBeGreaterThanOrEqual(estimateRunBytes(perShard, 1, false));
    expect(shardMemoryBytes(p) - estimateRunBytes(perShard, 1, false)).toBeLessThan(1024 * 1024);
    // The embedded server, when each pod starts its own, is counted too.
    expect(shardMemoryBytes({ ...p, target: undefined })).toBeGreaterThan(shardMemoryBytes(p));
    const c = (k8sManifests(p) as Obj[])[2]!['spec'].template.spec.containers[0];
    expect(c.resources.requests.memory).toBe(`${shardMemoryBytes(p) / 1024 / 1024}Mi`);
    expect(c.resources.requests.cpu).toBe('4');
  });

  it('gives each pod a Service for its metrics, selecting that pod alone', () => {
    const services = (k8sManifests(plan({ shards: 3 })) as Obj[]).filter((o) => o['kind'] === 'Service');
    expect(services.map((s) => s['spec'].selector)).toEqual([0, 1, 2].map((i) => ({ 'job-name': 'rollout-onenet', 'batch.kubernetes.io/job-completion-index': String(i) })));
    expect(services[0]!['metadata'].annotations['prometheus.io/scrape']).toBe('true');
  });

  it('merges every shard\'s folder in a second Job, waiting no longer than the run can take', () => {
    const now = Date.parse('2026-12-01T12:59:00Z');
    const merge = (k8sManifests(plan({ shards: 3, startAt: '2026-12-01T13:00:00.000Z' }), now) as Obj[]).at(-1)!;
    const args: string[] = merge['spec'].template.spec.containers[0].args;
    expect(args.slice(0, 4)).toEqual(['merge', '/reports/shard-0', '/reports/shard-1', '/reports/shard-2']);
    expect(args).toEqual(expect.arrayContaining(['--out', '/reports/merged', '--shards', '3']));
    const wait = Number(/^(\d+)s$/.exec(args[args.indexOf('--wait') + 1]!)![1]);
    // start (1 min) + the run's cap (1 h) + 15 min for pods to be scheduled.
    expect(wait).toBe(60 + 60 * 60 + 15 * 60);
  });

  it('without a shared volume, frames each shard\'s report on its log instead, with no claim and no merge Job', () => {
    const objs = k8sManifests(plan({ reports: 'logs' })) as Obj[];
    expect(objs.map((o) => o['kind'])).toEqual(['ConfigMap', 'Job', ...Array<string>(10).fill('Service')]);
    validateAll(objs);
    const pod = objs[1]!['spec'].template.spec;
    expect(pod.containers[0].args).toContain('--report-stdout');
    expect(pod.volumes).toContainEqual({ name: 'reports', emptyDir: {} });
  });

  it('makes names Kubernetes accepts', () => {
    expect(dnsName('Rollout ONENET (EU)')).toBe('rollout-onenet-eu');
    expect(dnsName('42-fleet')).toBe('r-42-fleet');
    expect(dnsName('***')).toBe('ota-swarm');
    expect(dnsName('x'.repeat(100))).toHaveLength(40);
  });
});

describe('ota-swarm k8s', () => {
  const args = (over: Partial<K8sArgs> = {}): K8sArgs => ({ scenario: 'scenarios/rollout-onenet.yaml', shards: 10, image: 'ota-swarm:dev', 'allow-remote': false, 'start-in': '5m', cpu: 2, reports: 'volume', ...over });
  const capture = (a: K8sArgs): { code: number; out: string; err: string } => {
    let out = '';
    let err = '';
    const code = runK8s(a, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  };

  it('prints a YAML stream of valid manifests for the shipped scenario', () => {
    const r = capture(args({ 'start-at': new Date(Date.now() + 600_000).toISOString() }));
    expect(r.code, r.err).toBe(0);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS() as Obj);
    expect(docs).toHaveLength(14);
    validateAll(docs);
    expect(docs[0]!['data']['scenario.yaml']).toContain('name: rollout-onenet');
  });

  it('refuses bad flags in one line naming the flag', () => {
    expect(capture(args({ shards: 0 })).err).toBe('ota-swarm k8s: --shards: must be an integer 1..10000\n');
    expect(capture(args({ cpu: 0.5 })).code).toBe(2);
    expect(capture(args({ 'start-at': '2026-12-01T12:00:00' })).err).toMatch(/--start-at: .* has no time zone/);
    expect(capture(args({ 'start-in': 'soon' })).err).toMatch(/--start-in: "soon" is not a duration/);
    expect(capture(args({ scenario: 'nope.yaml' })).code).toBe(2);
    expect(capture(args({ reports: 'bucket' })).err).toBe('ota-swarm k8s: --reports: "bucket" is not volume or logs\n');
  });
});

describe('the Dockerfile', () => {
  const root = new URL('../../', import.meta.url).pathname;
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');

  it('copies only what exists, runs the launcher, and builds on the Node the project supports', () => {
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) for (const src of (m[1] as string).split(/\s+/)) expect(existsSync(join(root, src)), src).toBe(true);
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/ota-swarm\.js"\]$/m);
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const min = /(\d+)\.(\d+)/.exec(engines)!;
    for (const m of text.matchAll(/^FROM node:(\d+)\.(\d+)/gm)) {
      expect(Number(m[1])).toBe(Number(min[1]));
      expect(Number(m[2])).toBeGreaterThanOrEqual(Number(min[2]));
    }
    // No src/ in the final image: the launcher must not try to build in a pod.
    expect(text.split(/^FROM /m).at(-1)).not.toMatch(/COPY .*\bsrc\b/);
  });
});
