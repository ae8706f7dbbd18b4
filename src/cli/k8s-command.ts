/**
 * `ota-swarm k8s SCENARIO --shards N --image IMAGE`: prints the manifests of a fleet run over N
 * pods (deploy/k8s.ts) as one YAML stream for `kubectl apply -f -`. docs/scale-out.md walks
 * through a run. Exit 0, or 2 on a bad flag or scenario.
 */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { STDIO, type Output } from './report-commands.js';
import { loadScenario, type ScenarioOverrides } from '../scenario/load.js';
import { parseDuration, parseTimeScale } from '../config/units.js';
import { dnsName, k8sManifests } from '../deploy/k8s.js';
import { MAX_SLICES } from '../engine/fleet-slice.js';
import { parseStartAt, StartAtError } from '../engine/start-barrier.js';
import { ConfigError } from '../config/load.js';

export interface K8sArgs {
  scenario: string;
  shards: number;
  image: string;
  name?: string;
  target?: string;
  'allow-remote': boolean;
  'start-at'?: string;
  'start-in': string;
  cpu: number;
  secret?: string;
  namespace?: string;
  'storage-class'?: string;
  seed?: number;
  devices?: number;
  'time-scale'?: string;
  reports: string;
}

/** The command's work; returns the exit status. */
export function runK8s(a: K8sArgs, io: Output = STDIO): number {
  const bad = (why: string): number => {
    io.err(`ota-swarm k8s: ${why}\n`);
    return 2;
  };
  if (!Number.isInteger(a.shards) || a.shards < 1 || a.shards > MAX_SLICES) return bad(`--shards: must be an integer 1..${MAX_SLICES}`);
  if (!Number.isInteger(a.cpu) || a.cpu < 1) return bad('--cpu: must be a positive integer (cores per pod)');
  if (a.image.trim() === '') return bad('--image: name the image built from the Dockerfile');
  if (a.reports !== 'volume' && a.reports !== 'logs') return bad(`--reports: "${a.reports}" is not volume or logs`);
  const overrides: ScenarioOverrides = {};
  const runArgs: string[] = [];
  if (a.seed !== undefined) {
    overrides.seed = a.seed;
    runArgs.push('--seed', String(a.seed));
  }
  if (a.devices !== undefined) {
    overrides.devices = a.devices;
    runArgs.push('--devices', String(a.devices));
  }
  if (a['time-scale'] !== undefined) {
    const scale = parseTimeScale(a['time-scale']);
    if (scale === undefined) return bad(`--time-scale: "${a['time-scale']}" is not a number above 0 nor max`);
    overrides.timeScale = scale;
    runArgs.push('--time-scale', a['time-scale']);
  }
  let scenario;
  try {
    scenario = loadScenario(a.scenario, overrides);
  } catch (err) {
    if (err instanceof ConfigError) return bad(err.message);
    throw err;
  }
  let startAt: string;
  try {
    if (a['start-at'] !== undefined) startAt = new Date(parseStartAt(a['start-at'], '--start-at', Date.now())).toISOString();
    else {
      const inMs = parseDuration(a['start-in']);
      if (inMs === undefined) return bad(`--start-in: "${a['start-in']}" is not a duration (e.g. 5m)`);
      startAt = new Date(Math.ceil((Date.now() + inMs) / 1000) * 1000).toISOString();
    }
  } catch (err) {
    if (err instanceof StartAtError) return bad(err.message);
    throw err;
  }
  const manifests = k8sManifests({
    name: dnsName(a.name ?? scenario.name),
    image: a.image,
    shards: a.shards,
    scenarioText: readFileSync(a.scenario, 'utf8'),
    fleetDevices: scenario.fleet.devices,
    timeScale: scenario.timeScale,
    maxDurationMs: scenario.stop.maxDurationMs,
    ...(a.target !== undefined ? { target: a.target } : {}),
    allowRemote: a['allow-remote'],
    startAt,
    cpu: a.cpu,
    ...(a.secret !== undefined ? { secret: a.secret } : {}),
    ...(a.namespace !== undefined ? { namespace: a.namespace } : {}),
    ...(a['storage-class'] !== undefined ? { storageClass: a['storage-class'] } : {}),
    runArgs,
    reports: a.reports,
  });
  io.out(`# ota-swarm k8s: ${scenario.name}, ${scenario.fleet.devices} devices over ${a.shards} shards, agreed start ${startAt}\n`);
  io.out(manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n'));
  return 0;
}

export const k8sCommand: CommandModule<object, K8sArgs> = {
  command: 'k8s <scenario>',
  describe: 'print Kubernetes manifests running the scenario over --shards pods, with the merge (docs/scale-out.md)',
  builder: (y: Argv<object>) =>
    y
      .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario YAML file (goes into a ConfigMap)' })
      .option('shards', { type: 'number', demandOption: true, describe: 'pods, each running one slice of the fleet' })
      .option('image', { type: 'string', demandOption: true, describe: 'the ota-swarm image (built from the Dockerfile)' })
      .option('name', { type: 'string', describe: 'name of the objects (default: from the scenario name)' })
      .option('target', { type: 'string', describe: 'base URL of the OTA server every shard loads (default: each pod starts the embedded one)' })
      .option('allow-remote', { type: 'boolean', default: false, describe: 'let the shards load a non-loopback --target (a cluster Service is one)' })
      .option('start-at', { type: 'string', describe: 'the agreed start, ISO 8601 with zone (default: now + --start-in)' })
      .option('start-in', { type: 'string', default: '5m', describe: 'the agreed start this long after the manifests are printed: apply them before then' })
      .option('cpu', { type: 'number', default: 2, describe: 'cores each shard pod requests' })
      .option('secret', { type: 'string', describe: 'a Secret whose keys become every shard\'s environment (OTA_SWARM_ONENET_ACCESS_KEY, ...)' })
      .option('namespace', { type: 'string', describe: 'namespace of every object' })
      .option('storage-class', { type: 'string', describe: 'storage class of the ReadWriteMany claim the reports go to' })
      .option('seed', { type: 'number', describe: 'seed of every random draw (the same on every shard)' })
      .option('devices', { type: 'number', describe: 'fleet size (the whole fleet, split over the shards)' })
      .option('time-scale', { type: 'string', describe: 'virtual seconds per real second, or max' })
      .option('reports', { type: 'string', default: 'volume', describe: 'where shard reports go: volume (a ReadWriteMany claim and a merge Job) or logs (framed on stdout: save kubectl logs, then ota-swarm merge them)' }) as unknown as Argv<K8sArgs>,
  handler: (argv: ArgumentsCamelCase<K8sArgs>) => {
    process.exitCode = runK8s(argv);
  },
};
