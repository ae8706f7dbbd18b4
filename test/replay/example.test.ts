/** scenarios/replay/: the example log reads, and its emitted scenario is the one the replay emits from it today. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prepareReplay } from '../../src/replay/session.js';
import { emitScenario } from '../../src/replay/emit.js';
import { loadScenario } from '../../src/scenario/load.js';

const file = (name: string): string => fileURLToPath(new URL(`../../scenarios/replay/${name}`, import.meta.url));

describe('scenarios/replay/', () => {
  const log = file('field-incident.jsonl');
  const prepared = prepareReplay({ log });

  it('holds an anonymised field log of two devices: a cut and a sleep, lost progress answers', () => {
    expect(prepared.format).toBe('jsonl');
    expect(prepared.scripts.map((s) => s.device).sort()).toEqual(['522728707', '522777996']);
    const cut = prepared.scripts.find((s) => s.steps.some((x) => x.cutAfterBytes !== undefined));
    expect(cut?.steps.some((x) => x.sleep)).toBe(true);
    const lossy = prepared.scripts.find((s) => s.steps.some((x) => x.loseAnswer === true));
    expect(lossy?.steps.filter((x) => x.retransmission).length).toBeGreaterThan(0);
    expect(readFileSync(log, 'utf8')).not.toMatch(/ota_[A-Za-z0-9]{20}/);
  });

  it('keeps the scenario the log emits, and it loads', () => {
    const kept = parse(readFileSync(file('field-incident.yaml'), 'utf8')) as unknown;
    expect(kept).toEqual(emitScenario({ name: 'replay-field-incident', source: basename(log), scripts: prepared.scripts }));
    const s = loadScenario(file('field-incident.yaml'));
    expect(s.fleet.devices).toBe(2);
    expect(s.fleet.cohorts[0]?.behaviours.disconnect?.at).toEqual({ kind: 'bytes', bytes: 70000 });
    expect(s.fleet.cohorts[1]?.behaviours.answerLoss?.ops).toEqual(['progress']);
  });
});
