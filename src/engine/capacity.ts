/**
 * Whether a run fits the machine, decided before any thread starts: worker threads capped at the
 * cores (more only add memory and context switches: 1,000 asked for took 8 GB), and a fleet
 * refused whose estimated memory exceeds what the machine (or its cgroup) allows, instead of a
 * worker dying of it half-way. Pure: the machine's figures are given (see ./machine.ts).
 *
 * The per-device figures are bench/README.md's measured peak RSS above idle, with margin, so
 * the estimate errs high by about half and only a fleet that clearly cannot fit is refused:
 * - paced (a time scale): 0.74–1.05 KiB a device measured at 1,000,000 PSM devices → 1.5 KiB;
 * - max: 1.15 KiB measured at the same → 2 KiB (more garbage per second between collections);
 * - the embedded server, when the run starts it (same process): 0.95 KiB measured → 1.5 KiB;
 * - the process itself: 138–243 MiB idle measured → 256 MiB.
 * (The 3.9–4.6 KiB of the 10,000-device flow is V8 heap growth over a small fleet, not per-device
 * state: 10,000 devices at 4.6 KiB are 45 MiB, well inside the base.)
 */
import type { Scenario } from '../scenario/types.js';
import type { TimeScale } from '../time/clock.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export type MemoryMode = 'paced' | 'max';
export const HARNESS_BYTES_PER_DEVICE: Readonly<Record<MemoryMode, number>> = { paced: 1.5 * KiB, max: 2 * KiB };
export const EMBEDDED_SERVER_BYTES_PER_DEVICE = 1.5 * KiB;
export const BASE_BYTES = 256 * MiB;

export interface CapacityInput {
  devices: number;
  timeScale: TimeScale;
  /** The run starts the reference server in its own process (no --target). */
  embeddedServer: boolean;
  requestedWorkers: number;
  /** What asked for the workers, for the warning: `--workers` or `workers`. */
  workersLabel: string;
}

export interface MachineFacts {
  cores: number;
  memory: { bytes: number; source: string };
}

export interface CapacityPlan {
  workers: number;
  /** One line when the workers asked for were capped. */
  warning?: string;
  estimatedBytes: number;
  /** Why the fleet cannot run here, one line (no place prefix); absent when it fits. */
  refusal?: string;
}

export function estimateRunBytes(devices: number, timeScale: TimeScale, embeddedServer: boolean): number {
  const perDevice = HARNESS_BYTES_PER_DEVICE[timeScale === 'max' ? 'max' : 'paced'] + (embeddedServer ? EMBEDDED_SERVER_BYTES_PER_DEVICE : 0);
  return BASE_BYTES + devices * perDevice;
}

export function planCapacity(input: CapacityInput, machine: MachineFacts): CapacityPlan {
  const cores = Math.max(1, Math.floor(machine.cores));
  const capped = input.requestedWorkers > cores;
  const workers = capped ? cores : input.requestedWorkers;
  const estimatedBytes = estimateRunBytes(input.devices, input.timeScale, input.embeddedServer);
  const plan: CapacityPlan = { workers, estimatedBytes };
  if (capped) plan.warning = `${input.workersLabel} ${input.requestedWorkers} is more than the ${cores} core${cores === 1 ? '' : 's'} here (os.availableParallelism); using ${cores}`;
  if (estimatedBytes > machine.memory.bytes) {
    const mode = input.timeScale === 'max' ? 'max' : 'paced';
    const parts = [`${kib(HARNESS_BYTES_PER_DEVICE[mode])} a device in the harness at ${mode === 'max' ? 'time scale max' : 'a paced time scale'}`];
    if (input.embeddedServer) parts.push(`${kib(EMBEDDED_SERVER_BYTES_PER_DEVICE)} in the embedded server`);
    parts.push(`${gib(BASE_BYTES)} base`);
    plan.refusal = `${input.devices} devices need about ${gib(estimatedBytes)} (${parts.join(', ')}), more than the ${gib(machine.memory.bytes)} this machine allows (${machine.memory.source}); run fewer devices or split the fleet over machines`;
  }
  return plan;
}

const kib = (b: number): string => `${(b / KiB).toFixed(1)} KiB`;
const gib = (b: number): string => (b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${Math.round(b / MiB)} MiB`);

/** planCapacity for a resolved scenario. */
export function planRun(scenario: Pick<Scenario, 'fleet' | 'timeScale' | 'target'>, requestedWorkers: number, workersLabel: string, machine: MachineFacts): CapacityPlan {
  return planCapacity({ devices: scenario.fleet.devices, timeScale: scenario.timeScale, embeddedServer: scenario.target.url === undefined, requestedWorkers, workersLabel }, machine);
}
