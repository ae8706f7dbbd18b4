/**
 * The scenarios shipped in scenarios/ load, and fit the built-in catalog the embedded server
 * starts with: every device is known to the server, has a task, and passes the task's gates.
 */
import type { OnenetTargetBlock } from '../../src/dialect/onenet/target.js';
import type { LuatTargetBlock } from '../../src/dialect/luat/target.js';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { indexOf, parseIdRange, rangeSize, type IdRange } from '../../src/catalog/id-range.js';
import { DEFAULT_CATALOG, DEFAULT_LUAT_FIRMWARE, DEFAULT_LUAT_PROJECT_KEY, DEFAULT_ONENET_PRODUCT } from '../../src/catalog/default.js';
import { readFileSync } from 'node:fs';
import { loadScenario, parseScenario } from '../../src/scenario/load.js';
import { expandFleet } from '../../src/scenario/fleet.js';
import type { CohortSpec } from '../../src/scenario/types.js';

const shipped = (name: string): string => fileURLToPath(new URL(`../../scenarios/${name}`, import.meta.url));

/** Whether every id a cohort hands out lies in `range`. */
function idsWithin(cohort: CohortSpec, range: IdRange): boolean {
  const own = parseIdRange(cohort.ids);
  const firstId = `${own.prefix}${own.width > 0 ? String(own.first).padStart(own.width, '0') : own.first}`;
  const lastN = own.first + cohort.count - 1;
  const lastId = `${own.prefix}${own.width > 0 ? String(lastN).padStart(own.width, '0') : lastN}`;
  return indexOf(range, firstId) >= 0 && indexOf(range, lastId) >= 0 && cohort.count <= rangeSize(range);
}

describe('scenarios/rollout-onenet.yaml', () => {
  const s = loadScenario(shipped('rollout-onenet.yaml'));
  const product = DEFAULT_CATALOG.onenet.products.find((p) => p.id === DEFAULT_ONENET_PRODUCT);

  it('is 3000 SOTA devices of the demo product, spread over about 10 s', () => {
    expect(s.dialect).toBe('onenet');
    expect(s.fleet.devices).toBe(3000);
    expect((s.target.block as OnenetTargetBlock | undefined)?.productId).toBe(DEFAULT_ONENET_PRODUCT);
    expect(s.target.url).toBeUndefined();
    expect(s.arrival).toEqual({ pattern: 'spread', overMs: 10_000 });
    expect(s.expect.map((e) => e.text)).toEqual(
      expect.arrayContaining(['devices.succeeded >= 99%', 'transitions.violations == 0', expect.stringMatching(/^check\.p99 /)]),
    );
  });

  it('matches a device range and a task of the built-in catalog, and passes the task gates', () => {
    expect(product).toBeDefined();
    const plan = expandFleet(s);
    for (const cohort of s.fleet.cohorts) {
      const devices = product!.devices.find((d) => idsWithin(cohort, parseIdRange(d.ids)));
      expect(devices, `catalog devices for ${cohort.name}`).toBeDefined();
      expect([devices!.manuf, devices!.model, devices!.sVersion]).toEqual([cohort.manuf, cohort.model, cohort.version]);
      const task = product!.tasks.find((t) => idsWithin(cohort, parseIdRange(t.devices)));
      expect(task, `catalog task for ${cohort.name}`).toBeDefined();
      expect([task!.type, task!.manuf, task!.model]).toEqual([cohort.taskType, cohort.manuf, cohort.model]);
      expect(cohort.behaviours).toEqual({ corruptDownload: 0, rebootIntoOld: 0 });
      // Every device above the gates, so every device can succeed.
      for (let i = 0; i < plan.total; i++) {
        const p = plan.profileOf(i);
        if (p.cohort !== cohort.name) continue;
        expect(p.signal).toBeGreaterThan(task!.signal);
        expect(p.battery).toBeGreaterThan(task!.power);
      }
    }
  });
});

describe('scenarios/rollout-luat.yaml', () => {
  const s = loadScenario(shipped('rollout-luat.yaml'));
  const luat = DEFAULT_CATALOG.luat;
  const project = luat.projects.find((p) => p.key === DEFAULT_LUAT_PROJECT_KEY)!;
  const firmware = project.firmware.find((f) => f.name === DEFAULT_LUAT_FIRMWARE)!;

  it('is 2000 modules asking for the demo firmware, at an older version and a known core', () => {
    expect(s.dialect).toBe('luat');
    expect(s.fleet.devices).toBe(2000);
    expect((s.target.block as LuatTargetBlock | undefined)?.firmwareName).toBe(DEFAULT_LUAT_FIRMWARE);
    for (const cohort of s.fleet.cohorts) {
      expect(project.devices.some((d) => d.upgradeList && idsWithin(cohort, parseIdRange(d.imeis)))).toBe(true);
      expect(firmware.cores).toContain(cohort.core);
      expect(cohort.version).toBe('1.3.1');
      expect(firmware.version).toBe('1.3.2');
    }
    expect(s.expect.map((e) => e.text)).toEqual(
      expect.arrayContaining(['devices.succeeded >= 99%', 'transitions.violations == 0', expect.stringMatching(/^luat\.p99 /)]),
    );
  });

  it('waits out the longest diff build in under a minute of real time, without reaching the ban limit', () => {
    expect(typeof s.timeScale).toBe('number');
    for (const cohort of s.fleet.cohorts) {
      const realBuildMs = luat.diffBuildMs.max / (s.timeScale as number);
      expect(realBuildMs).toBeLessThan(60_000);
      // Asks while the package is built, plus the one that gets it and one to confirm.
      const asks = Math.ceil(luat.diffBuildMs.max / cohort.settings.waitBackoffMs) + 2;
      expect(asks).toBeLessThan(luat.banLimitPerDay);
    }
    expect(s.stop.maxDurationMs).toBeLessThanOrEqual(60_000);
  });
});

describe('scenarios/README.md', () => {
  it('has a complete example that loads as described', () => {
    const readme = readFileSync(shipped('README.md'), 'utf8');
    const example = /## A complete example\s+```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const s = parseScenario(example!, shipped('example.yaml'));
    expect(s.fleet.cohorts.map((c) => c.count)).toEqual([500, 100, 400]);
    expect(s.arrival).toEqual({ pattern: 'constant-rate', perSecond: 10 });
  });
});
