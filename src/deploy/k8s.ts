/**
 * Kubernetes manifests for a fleet run over N pods (`ota-swarm k8s`): a ConfigMap with the
 * scenario, a ReadWriteMany claim the shard reports go to, an Indexed Job (one pod per fleet
 * slice: JOB_COMPLETION_INDEX with OTA_SWARM_SHARDS, every pod given the same OTA_SWARM_START_AT),
 * a Service per pod for scraping its --metrics-port, and a merge Job that waits (bounded) for every
 * shard's report and writes the merged run folder. Only fields of Kubernetes 1.28 are used (the
 * per-pod Service selects on the `batch.kubernetes.io/job-completion-index` pod label, 1.28+).
 * Pure (the instant they are printed is given): objects in, objects out; the command prints them as YAML.
 */
import { estimateRunBytes } from '../engine/capacity.js';
import { sliceSize } from '../engine/fleet-slice.js';
import type { TimeScale } from '../time/clock.js';

export const METRICS_PORT = 9464;
export const SCENARIO_KEY = 'scenario.yaml';
const SCENARIO_MOUNT = '/scenario';
const REPORTS_MOUNT = '/reports';
const INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';
/** Grace for the merge Job beyond the run's own cap: pods to be scheduled and images pulled. */
const MERGE_GRACE_MS = 15 * 60_000;
const MiB = 1024 * 1024;
const POD_SECURITY = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 };

export interface K8sPlan {
  /** Name of every object (a DNS label: lower case, digits, '-'). */
  name: string;
  image: string;
  shards: number;
  /** The scenario file's text (it goes into the ConfigMap whole). */
  scenarioText: string;
  fleetDevices: number;
  timeScale: TimeScale;
  /** The run's real-time cap (scenario stop.maxDuration), for the merge Job's wait. */
  maxDurationMs: number;
  /** The OTA server the shards load; absent: each pod runs the embedded one. */
  target?: string;
  allowRemote: boolean;
  /** The agreed start, ISO 8601. */
  startAt: string;
  /** CPU cores each pod requests (its worker threads are capped at them). */
  cpu: number;
  /** A Secret whose keys become the shards' environment (OTA_SWARM_ONENET_ACCESS_KEY, ...). */
  secret?: string;
  namespace?: string;
  storageClass?: string;
  /** Extra `run` arguments for every shard (e.g. --seed 7, --time-scale 60). */
  runArgs: string[];
  /**
   * Where the shard reports go: a ReadWriteMany `volume` that a merge Job reads, or the pods'
   * `logs` (framed on stdout; `kubectl logs` saves them, `ota-swarm merge` reads them): no shared
   * volume and no merge Job then. Default: volume.
   */
  reports?: 'volume' | 'logs';
}

type Obj = Record<string, unknown>;

/** A name Kubernetes accepts for every object made from it (63 characters with the longest suffix). */
export function dnsName(text: string): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/g, '');
  return cleaned === '' ? 'ota-swarm' : /^[a-z]/.test(cleaned) ? cleaned : `r-${cleaned}`.slice(0, 40);
}

/** Memory a shard pod requests: the run's own estimate (engine/capacity.ts) for its slice, rounded up to MiB. */
export function shardMemoryBytes(p: Pick<K8sPlan, 'fleetDevices' | 'shards' | 'timeScale' | 'target'>): number {
  const largest = sliceSize(p.fleetDevices, { index: 0, count: p.shards });
  return Math.ceil(estimateRunBytes(largest, p.timeScale, p.target === undefined) / MiB) * MiB;
}

/** Report space: a report is a few MB; finals.jsonl about 64 bytes a device. */
function storageBytes(p: K8sPlan): number {
  return Math.max(1024 * MiB, Math.ceil((p.shards * 2 + 2) * 16 * MiB + p.fleetDevices * 2 * 64));
}

const mi = (bytes: number): string => `${Math.ceil(bytes / MiB)}Mi`;
const shardFolder = (i: number | string): string => `${REPORTS_MOUNT}/shard-${i}`;

function metadata(p: K8sPlan, name: string, extra: Obj = {}): Obj {
  return { name, ...(p.namespace !== undefined ? { namespace: p.namespace } : {}), labels: { 'app.kubernetes.io/name': 'ota-swarm', 'app.kubernetes.io/instance': p.name }, ...extra };
}

const volumes = (p: K8sPlan): Obj[] => [
  { name: 'scenario', configMap: { name: `${p.name}-scenario` } },
  p.reports === 'logs' ? { name: 'reports', emptyDir: {} } : { name: 'reports', persistentVolumeClaim: { claimName: `${p.name}-reports` } },
];

function shardJob(p: K8sPlan): Obj {
  const memory = mi(shardMemoryBytes(p));
  const args = [
    'run', `${SCENARIO_MOUNT}/${SCENARIO_KEY}`,
    '--out', shardFolder('$(JOB_COMPLETION_INDEX)'),
    '--quiet',
    '--device-finals',
    '--workers', String(Math.max(1, p.cpu - 1)),
    '--metrics-port', String(METRICS_PORT), '--metrics-host', '0.0.0.0',
    ...(p.target !== undefined ? ['--target', p.target] : []),
    ...(p.allowRemote ? ['--allow-remote'] : []),
    ...(p.reports === 'logs' ? ['--report-stdout'] : []),
    ...p.runArgs,
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(p, p.name),
    spec: {
      completionMode: 'Indexed',
      completions: p.shards,
      parallelism: p.shards,
      // A failed shard is not run again: it would start late; the merge reports it failed instead.
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'ota-swarm', 'app.kubernetes.io/instance': p.name, 'app.kubernetes.io/component': 'shard' } },
        spec: {
          restartPolicy: 'Never',
          // The image runs as user node (1000): the reports volume must be writable by it.
          securityContext: POD_SECURITY,
          containers: [
            {
              name: 'shard',
              image: p.image,
              args,
              env: [
                // Set by the Job controller too; declared so $(JOB_COMPLETION_INDEX) in args expands.
                { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${INDEX_LABEL}']` } } },
                { name: 'OTA_SWARM_SHARDS', value: String(p.shards) },
                { name: 'OTA_SWARM_START_AT', value: p.startAt },
              ],
              ...(p.secret !== undefined ? { envFrom: [{ secretRef: { name: p.secret } }] } : {}),
              ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
              resources: { requests: { cpu: String(p.cpu), memory }, limits: { memory } },
              volumeMounts: [
                { name: 'scenario', mountPath: SCENARIO_MOUNT, readOnly: true },
                { name: 'reports', mountPath: REPORTS_MOUNT },
              ],
            },
          ],
          volumes: volumes(p),
        },
      },
    },
  };
}

function metricsService(p: K8sPlan, index: number): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(p, `${p.name}-metrics-${index}`, { annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT), 'prometheus.io/path': '/metrics' } }),
    spec: {
      selector: { 'job-name': p.name, [INDEX_LABEL]: String(index) },
      ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics' }],
    },
  };
}

function mergeJob(p: K8sPlan, nowMs: number): Obj {
  const startIn = Math.max(0, Date.parse(p.startAt) - nowMs);
  const waitS = Math.ceil((startIn + p.maxDurationMs + MERGE_GRACE_MS) / 1000);
  const folders = Array.from({ length: p.shards }, (_, i) => shardFolder(i));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(p, `${p.name}-merge`),
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'ota-swarm', 'app.kubernetes.io/instance': p.name, 'app.kubernetes.io/component': 'merge' } },
        spec: {
          restartPolicy: 'Never',
          // The image runs as user node (1000): the reports volume must be writable by it.
          securityContext: POD_SECURITY,
          containers: [
            {
              name: 'merge',
              image: p.image,
              args: ['merge', ...folders, '--out', `${REPORTS_MOUNT}/merged`, '--shards', String(p.shards), '--wait', `${waitS}s`],
              resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '4Gi' } },
              volumeMounts: [{ name: 'reports', mountPath: REPORTS_MOUNT }],
            },
          ],
          volumes: volumes(p).filter((v) => v['name'] === 'reports'),
        },
      },
    },
  };
}

/** Every manifest, in the order `kubectl apply -f` should create them; `nowMs`: when they are printed. */
export function k8sManifests(p: K8sPlan, nowMs: number = Date.now()): Obj[] {
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(p, `${p.name}-scenario`), data: { [SCENARIO_KEY]: p.scenarioText } };
  const services = Array.from({ length: p.shards }, (_, i) => metricsService(p, i));
  if (p.reports === 'logs') return [configMap, shardJob(p), ...services];
  return [
    configMap,
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: metadata(p, `${p.name}-reports`),
      spec: {
        accessModes: ['ReadWriteMany'],
        ...(p.storageClass !== undefined ? { storageClassName: p.storageClass } : {}),
        resources: { requests: { storage: mi(storageBytes(p)) } },
      },
    },
    shardJob(p),
    ...services,
    mergeJob(p, nowMs),
  ];
}
