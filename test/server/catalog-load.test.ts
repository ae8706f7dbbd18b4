/** Catalog YAML loading: a good file, and each cross-check failing with file:line in one line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from '../../src/catalog/default.js';
import { loadCatalog, prepareCatalog, spanContains, spanOf, spansOverlap } from '../../src/catalog/load.js';
import { parseIdRange } from '../../src/catalog/id-range.js';
import { generatePackageBytes, packageImage, packageMd5 } from '../../src/catalog/package-bytes.js';
import { ConfigError } from '../../src/config/load.js';
import { start } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ota-catalog-'));
let n = 0;
function file(text: string): string {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}

const KEY = Buffer.from('k'.repeat(32)).toString('base64');

const GOOD = `seed: 5
onenet:
  products:
    - id: "300001"
      accessKey: ${KEY}
      packages:
        - { id: p-full, version: V2, size: 4096 }
        - { id: p-diff, version: V2, size: 1024, kind: diff, from: [V1] }
      devices:
        - { ids: "700000000..700000999", manuf: "101", model: "10101", sVersion: V1 }
      tasks:
        - { devices: "700000000..700000499", package: p-full, type: 2, manuf: "101", model: "10101" }
luat:
  banLimitPerDay: 6
  projects:
    - key: projectKeyA
      account: acme
      firmware:
        - { name: fw, version: 1.0.1, size: 2048, cores: ["1"] }
      devices:
        - { imeis: "86000000{0000000..0000099}" }
`;

/** Loads text and returns the error message. */
function errorOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  const f = file(text);
  try {
    loadCatalog(f, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg.startsWith(f)).toBe(true);
    return msg.slice(f.length);
  }
  throw new Error('expected the catalog to be refused');
}

describe('loadCatalog', () => {
  it('loads a good file with defaults filled', () => {
    const c = loadCatalog(file(GOOD));
    expect(c.seed).toBe(5);
    expect(c.onenet.products[0]?.packages[0]?.kind).toBe('full');
    expect(c.onenet.products[0]?.tasks[0]).toMatchObject({ signal: 0, power: 0, retry: 3, interval: 60 });
    expect(c.luat.banCountsWaits).toBe(true);
    expect(c.luat.projects[0]?.firmware[0]).toMatchObject({ diff: true, enabled: true, forbiddenJumps: [] });
  });

  it('the loaded catalog serves', async () => {
    const s = await start({ catalog: loadCatalog(file(GOOD)) });
    try {
      const r = await s.check('700000001', { version: 'V1' }, s.auth({ productId: '300001', key: KEY }));
      expect(r.json.data).toMatchObject({ target: 'V2', size: 4096 });
    } finally {
      await s.close();
    }
  });

  it('resolves an access key from the environment, and names the field when it is missing', () => {
    const text = GOOD.replace(`accessKey: ${KEY}`, 'accessKey: { env: TEST_ONENET_KEY }');
    expect(loadCatalog(file(text), { TEST_ONENET_KEY: KEY }).onenet.products[0]?.accessKey).toBe(KEY);
    expect(errorOf(text)).toBe(':5:18: onenet.products.0.accessKey: environment variable TEST_ONENET_KEY is not set');
  });

  it('refuses a key that is not base64, without echoing it', () => {
    const msg = errorOf(GOOD.replace(`accessKey: ${KEY}`, 'accessKey: "not base64 !!"'));
    expect(msg).toBe(':5:18: onenet.products.0.accessKey: not a base64 access key');
  });

  it('a task naming an unknown package', () => {
    expect(errorOf(GOOD.replace('package: p-full', 'package: p-nope'))).toMatch(/^:12:\d+: onenet\.products\.0\.tasks\.0\.package: no package "p-nope" in product 300001$/);
  });

  it('overlapping OneNET device ranges', () => {
    const text = GOOD.replace(
      '        - { ids: "700000000..700000999", manuf: "101", model: "10101", sVersion: V1 }',
      '        - { ids: "700000000..700000999", manuf: "101", model: "10101", sVersion: V1 }\n        - { ids: "700000900..700001999", manuf: "101", model: "10101" }',
    );
    expect(errorOf(text)).toMatch(/^:11:\d+: onenet\.products\.0\.devices\.1\.ids: 700000900\.\.700001999 overlaps the device range at onenet\.products\.0\.devices\.0\.ids$/);
  });

  it('overlapping Luat ranges written differently (braced vs plain)', () => {
    const text = GOOD.replace('        - { imeis: "86000000{0000000..0000099}" }', '        - { imeis: "86000000{0000000..0000099}" }\n        - { imeis: "860000000000050..860000000000060" }');
    expect(errorOf(text)).toMatch(/luat\.projects\.0\.devices\.1\.imeis: .* overlaps/);
  });

  it('a task outside the product device ranges', () => {
    expect(errorOf(GOOD.replace('devices: "700000000..700000499"', 'devices: "700000000..700005000"'))).toMatch(/tasks\.0\.devices: 700000000\.\.700005000 is not inside one device range of product 300001/);
  });

  it('a diff package without from, a full package with from', () => {
    expect(errorOf(GOOD.replace(', kind: diff, from: [V1]', ', kind: diff'))).toMatch(/packages\.1: a diff package needs "from"/);
    expect(errorOf(GOOD.replace('size: 4096 }', 'size: 4096, from: [V0] }'))).toMatch(/packages\.0\.from: a full package takes no "from" list/);
  });

  it('an id range that does not parse', () => {
    expect(errorOf(GOOD.replace('"700000000..700000999"', '"700000999..700000000"'))).toMatch(/devices\.0\.ids: id range 700000999\.\.700000000: last is below first/);
  });

  it('a duplicate product, package id, project key, firmware name', () => {
    const dupProduct = GOOD.replace('luat:', `    - id: "300001"\n      accessKey: ${KEY}\nluat:`);
    expect(errorOf(dupProduct)).toMatch(/onenet\.products\.1\.id: product 300001 is listed twice/);
    expect(errorOf(GOOD.replace('id: p-diff', 'id: p-full'))).toMatch(/packages\.1\.id: package id p-full is already used/);
    const dupFw = GOOD.replace('        - { name: fw, version: 1.0.1, size: 2048, cores: ["1"] }', '        - { name: fw, version: 1.0.1, size: 2048, cores: ["1"] }\n        - { name: fw, version: 1.0.2, size: 2048, cores: ["1"] }');
    expect(errorOf(dupFw)).toMatch(/firmware\.1\.name: firmware fw is listed twice/);
  });

  it('diffBuildMs min above max', () => {
    expect(errorOf(GOOD.replace('  banLimitPerDay: 6', '  banLimitPerDay: 6\n  diffBuildMs: { min: 5, max: 1 }'))).toMatch(/^:15:\d+: luat\.diffBuildMs: min \(5\) is above max \(1\)$/);
  });

  it('schema errors come through config/load.ts with file:line', () => {
    expect(errorOf(GOOD.replace('size: 4096', 'size: -1'))).toMatch(/^:7:\d+: onenet\.products\.0\.packages\.0\.size: /);
    expect(errorOf(GOOD.replace('seed: 5', 'seed: 5\ncolour: red'))).toMatch(/^:2:\d+: colour: unknown field$/);
  });

  it('a missing file', () => {
    expect(() => loadCatalog(join(dir, 'nope.yaml'))).toThrow(/nope\.yaml: cannot read \(ENOENT\)/);
  });

  it('prepareCatalog fills the schema defaults of an object catalog', () => {
    const c = prepareCatalog({ onenet: { products: [{ id: '1', accessKey: KEY, packages: [{ id: 'a', version: 'V1', size: 1 }] }] } });
    expect(c.onenet.products[0]).toMatchObject({ devices: [], tasks: [], autoAdd: [], packages: [{ kind: 'full' }] });
    expect(c.luat).toMatchObject({ banLimitPerDay: 10, banCountsWaits: true, diffBuildMs: { min: 60_000, max: 180_000 }, projects: [] });
  });

  it('prepareCatalog checks an object catalog the same way, naming the field', () => {
    expect(prepareCatalog(DEFAULT_CATALOG).onenet.products).toHaveLength(1);
    const bad = structuredClone(DEFAULT_CATALOG);
    (bad.onenet.products[0] as { tasks: { package: string }[] }).tasks[0]!.package = 'ghost';
    expect(() => prepareCatalog(bad)).toThrow('catalog: onenet.products.0.tasks.0.package: no package "ghost" in product 198290');
    expect(() => prepareCatalog({ seed: -1 })).toThrow(/^catalog: seed: /);
  });
});

describe('id range overlap', () => {
  const span = (t: string) => spanOf(parseIdRange(t));
  it.each([
    ['86671404{0000000..0099999}', '866714040000000..866714040099999', true],
    ['86671404{0000000..0099999}', '86671405{0000000..0099999}', false],
    ['dev{000..999}', 'dev0{00..99}', true],
    ['dev{000..999}', 'dev{0000..9999}', false],
    ['1..100', '0{00..99}', false],
    ['5..15', '{0..9}', true],
    ['522700005', '522700000..522799999', true],
  ])('%s vs %s → %s', (a, b, expected) => {
    expect(spansOverlap(span(a), span(b))).toBe(expected);
    expect(spansOverlap(span(b), span(a))).toBe(expected);
  });

  it('containment', () => {
    expect(spanContains(span('522700000..522799999'), span('522700005'))).toBe(true);
    expect(spanContains(span('86671404{0000000..0099999}'), span('866714040000010..866714040000020'))).toBe(true);
    expect(spanContains(span('522700000..522799999'), span('522700000..522800000'))).toBe(false);
  });
});

describe('package bytes', () => {
  it('are a pure function of (seed, size), little-endian xorshift words', () => {
    const a = generatePackageBytes(42, 1001);
    expect(a.length).toBe(1001);
    expect(a.equals(generatePackageBytes(42, 1001))).toBe(true);
    expect(a.equals(generatePackageBytes(43, 1001))).toBe(false);
    // A prefix of a longer image: the stream does not depend on the size.
    expect(generatePackageBytes(42, 4000).subarray(0, 1001).equals(a)).toBe(true);
    // Pinned, so a change of generator (which would change every md5 a harness recorded) is caught.
    expect(a.subarray(0, 8).toString('hex')).toBe('4049aacf214ac356');
    expect(packageMd5(11, 192 * 1024)).toBe('cebe3d1d24113eb32f6f39f22128a4cd');
  });

  it('are cached: the same Buffer for the same (seed, size)', () => {
    expect(packageImage(7, 5000).bytes).toBe(packageImage(7, 5000).bytes);
  });
});
