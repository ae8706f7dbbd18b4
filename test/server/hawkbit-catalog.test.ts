/** The catalog's hawkBit block: refused in one line naming file:line:col and the field. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { ConfigError } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'hb-catalog-'));
let n = 0;

function errorOf(text: string): string {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, text);
  try {
    loadCatalog(f, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg.slice(f.length);
  }
  throw new Error('expected the catalog to be refused');
}

const tenant = (rollout: string, extra = ''): string => `hawkbit:
  tenants:
    - name: t
      targets: [{ ids: "d{000..099}" }]
      distributionSets:
        - { id: fw, version: "1", modules: [{ id: 1, name: fw, version: "1", artifacts: [{ filename: a.bin, size: 10 }] }] }
${extra}      rollouts:
        - ${rollout}
`;

describe('catalog hawkbit block', () => {
  it('loads a good one', () => {
    const f = join(dir, 'good.yaml');
    writeFileSync(f, tenant('{ name: r, distributionSet: fw, targets: "d{000..009}", groups: [50, 50] }'));
    expect(loadCatalog(f, {}).hawkbit?.tenants[0]?.rollouts[0]).toMatchObject({ actionType: 'forced', successThreshold: 100, start: true });
  });

  it('names the field of each mistake', () => {
    expect(errorOf(tenant('{ name: r, distributionSet: nope, targets: "d{000..009}", groups: [100] }'))).toMatch(/^:\d+:\d+: hawkbit\.tenants\.0\.rollouts\.0\.distributionSet: no distribution set nope in tenant t$/);
    expect(errorOf(tenant('{ name: r, distributionSet: fw, targets: "d{000..009}", groups: [50, 40] }'))).toMatch(/^:\d+:\d+: hawkbit\.tenants\.0\.rollouts\.0\.groups: the groups' percentages add up to 90, not 100$/);
    expect(errorOf(tenant('{ name: r, distributionSet: fw, targets: "d{009..000}", groups: [100] }'))).toMatch(/hawkbit\.tenants\.0\.rollouts\.0\.targets: id range d\{009\.\.000\}: last is below first/);
    expect(errorOf(tenant('{ name: r, distributionSet: fw, targets: "d{000..009}", groups: [100], actionType: maybe }'))).toMatch(/hawkbit\.tenants\.0\.rollouts\.0\.actionType/);
    expect(errorOf(tenant('{ name: r, distributionSet: fw, targets: "d{000..009}", groups: [100] }', '      pollingSleep: "5m"\n'))).toMatch(/hawkbit\.tenants\.0\.pollingSleep/);
  });
});
