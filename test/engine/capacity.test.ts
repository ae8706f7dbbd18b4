/**
 * Planning a run against the machine: workers capped at the cores (with the warning), and a
 * fleet refused when its estimated memory exceeds what the machine or its cgroup allows.
 */
import { describe, expect, it } from 'vitest';
import { BASE_BYTES, EMBEDDED_SERVER_BYTES_PER_DEVICE, HARNESS_BYTES_PER_DEVICE, estimateRunBytes, planCapacity, type CapacityInput, type MachineFacts } from '../../src/engine/capacity.js';
import { machineFacts, parseCgroupLimit } from '../../src/engine/machine.js';

const GiB = 1024 ** 3;
const machine: MachineFacts = { cores: 2, memory: { bytes: 24 * GiB, source: 'os.totalmem' } };
const input = (o: Partial<CapacityInput> = {}): CapacityInput => ({ devices: 3000, timeScale: 1, embeddedServer: true, requestedWorkers: 1, workersLabel: '--workers', ...o });

describe('workers', () => {
  it('1000 asked for on 2 cores: 2, with a one-line warning naming the flag', () => {
    const plan = planCapacity(input({ requestedWorkers: 1000 }), machine);
    expect(plan.workers).toBe(2);
    expect(plan.warning).toBe('--workers 1000 is more than the 2 cores here (os.availableParallelism); using 2');
  });

  it('up to the cores: as asked, no warning', () => {
    expect(planCapacity(input({ requestedWorkers: 2 }), machine)).toMatchObject({ workers: 2 });
    expect(planCapacity(input({ requestedWorkers: 2 }), machine).warning).toBeUndefined();
  });
});

describe('memory', () => {
  it('the documented constants: 1.5 KiB paced, 2 KiB at max, 1.5 KiB for the embedded server, 256 MiB base', () => {
    expect(HARNESS_BYTES_PER_DEVICE).toEqual({ paced: 1536, max: 2048 });
    expect(EMBEDDED_SERVER_BYTES_PER_DEVICE).toBe(1536);
    expect(BASE_BYTES).toBe(256 * 1024 ** 2);
    expect(estimateRunBytes(1_000_000, 160, false)).toBe(BASE_BYTES + 1_000_000 * 1536);
    expect(estimateRunBytes(1_000_000, 'max', true)).toBe(BASE_BYTES + 1_000_000 * (2048 + 1536));
  });

  it('the measured million-device day fits a 24 GiB machine and a 4 GiB container', () => {
    expect(planCapacity(input({ devices: 1_000_000, timeScale: 160, embeddedServer: false }), machine).refusal).toBeUndefined();
    expect(planCapacity(input({ devices: 1_000_000, timeScale: 160, embeddedServer: false }), { cores: 2, memory: { bytes: 4 * GiB, source: 'cgroup' } }).refusal).toBeUndefined();
  });

  it('refuses a fleet over the machine, in one line with the figures and where the limit comes from', () => {
    const plan = planCapacity(input({ devices: 20_000_000 }), machine);
    expect(plan.refusal).toBe(
      '20000000 devices need about 57.5 GiB (1.5 KiB a device in the harness at a paced time scale, 1.5 KiB in the embedded server, 256 MiB base), more than the 24.0 GiB this machine allows (os.totalmem); run fewer devices or split the fleet over machines',
    );
    const small = planCapacity(input({ devices: 2_000_000, timeScale: 'max', embeddedServer: false }), { cores: 2, memory: { bytes: 2 * GiB, source: 'cgroup /sys/fs/cgroup/memory.max' } });
    expect(small.refusal).toMatch(/^2000000 devices need about 4\.1 GiB \(2\.0 KiB a device in the harness at time scale max, 256 MiB base\), more than the 2\.0 GiB this machine allows \(cgroup \/sys\/fs\/cgroup\/memory\.max\)/);
  });
});

describe('machine facts', () => {
  it('reads a cgroup v2 or v1 limit; "max" and the v1 no-limit value limit nothing', () => {
    const physical = 24 * GiB;
    expect(parseCgroupLimit('4294967296\n', physical)).toBe(4 * GiB);
    expect(parseCgroupLimit('max\n', physical)).toBeUndefined();
    expect(parseCgroupLimit('9223372036854771712\n', physical)).toBeUndefined();
    expect(parseCgroupLimit('', physical)).toBeUndefined();
  });

  it('takes the smaller of the physical memory and a readable cgroup limit', () => {
    const limited = machineFacts((f) => (f === '/sys/fs/cgroup/memory.max' ? '1073741824\n' : 'max'));
    expect(limited.memory).toEqual({ bytes: GiB, source: 'cgroup /sys/fs/cgroup/memory.max' });
    const none = machineFacts(() => {
      throw new Error('ENOENT');
    });
    expect(none.memory.source).toBe('os.totalmem');
    expect(none.cores).toBeGreaterThanOrEqual(1);
  });
});
