/**
 * Bounds on scenario and catalog YAML: an oversized document is refused before it is read or
 * parsed, an alias bomb is refused before it expands; both in one ConfigError line naming the file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_YAML_ALIASES, MAX_YAML_BYTES } from '../../src/config/load.js';
import { loadScenario, parseScenario } from '../../src/scenario/load.js';
import { loadCatalog, parseCatalog } from '../../src/catalog/load.js';
import { errorOf } from './config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'ota-yaml-bounds-'));

/** Nine levels of nine aliases each: 9^7 ≈ 4.8 million nodes if expanded. */
export const ALIAS_BOMB = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n') + '\n';


describe('YAML document bounds', () => {
  it('states the bounds: 1 MiB and 100 aliases', () => {
    expect(MAX_YAML_BYTES).toBe(1024 * 1024);
    expect(MAX_YAML_ALIASES).toBe(100);
  });

  it('refuses a scenario file over 1 MiB before parsing it, naming the file and the limit', () => {
    const file = join(dir, 'huge-scenario.yaml');
    // A comment is cheap to write and would be cheap to parse: the refusal comes from the size alone.
    writeFileSync(file, `dialect: onenet\n# ${'x'.repeat(MAX_YAML_BYTES)}\n`);
    expect(errorOf(() => loadScenario(file))).toBe(`${file}: ${MAX_YAML_BYTES + 19} bytes, over the 1 MiB limit of a scenario or catalog file`);
  });

  it('refuses scenario text over 1 MiB given directly', () => {
    expect(errorOf(() => parseScenario(`# ${'x'.repeat(MAX_YAML_BYTES)}\n`, 'big.yaml'))).toMatch(/^big\.yaml: \d+ bytes, over the 1 MiB limit/);
  });

  it('refuses an alias bomb in a scenario with the file named', () => {
    const file = join(dir, 'bomb-scenario.yaml');
    writeFileSync(file, ALIAS_BOMB);
    expect(errorOf(() => loadScenario(file))).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: YAML: .*\\(at most 100 alias expansions\\)$`));
  });

  it('takes a few aliases (shared settings)', () => {
    const text = `dialect: onenet
target:
  onenet: { productId: "198290" }
fleet:
  cohorts:
    - { name: a, ids: "522700000..522700009", count: 10, version: V1.0, settings: &s { chunkSize: 4KiB } }
    - { name: b, ids: "522700010..522700019", count: 10, version: V1.0, settings: *s }
`;
    expect(parseScenario(text, 'ok.yaml').fleet.cohorts[1]?.settings.chunkSize).toBe(4096);
  });

  it('the same bounds hold for catalog files', () => {
    const big = join(dir, 'huge-catalog.yaml');
    writeFileSync(big, `# ${'x'.repeat(MAX_YAML_BYTES)}\n`);
    expect(errorOf(() => loadCatalog(big))).toMatch(/huge-catalog\.yaml: \d+ bytes, over the 1 MiB limit/);
    const bomb = join(dir, 'bomb-catalog.yaml');
    writeFileSync(bomb, ALIAS_BOMB);
    expect(errorOf(() => loadCatalog(bomb))).toMatch(/bomb-catalog\.yaml: YAML: .*at most 100 alias expansions/);
    expect(errorOf(() => parseCatalog(ALIAS_BOMB, 'inline.yaml'))).toMatch(/^inline\.yaml: YAML: /);
  });
});
