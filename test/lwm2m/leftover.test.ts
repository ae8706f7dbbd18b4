/**
 * The run's end with a device still asleep: what its transport saw and had not reported goes to the
 * verdicts as a `run-end` exchange (cut short), so no late data is dropped; devices without evidence
 * so far, and a codec that keeps no leftover, add nothing.
 */
import { describe, expect, it } from 'vitest';
import { EvidenceCollector } from '../../src/verdicts/collect.js';
import { lwm2mPlugin } from '../../src/dialect/lwm2m/plugin.js';
import { lwm2mFactsOfLeftover } from '../../src/dialect/lwm2m/evidence.js';
import { NO_FAULTS, type DeviceProfile } from '../../src/device/types.js';
import type { DialectPlugin } from '../../src/dialect/types.js';

const profile = (i: number): DeviceProfile => ({ index: i, id: `lwm2m-${i}`, cohort: 'c', version: '1.0.0', manuf: 'm', model: 'x', core: '', taskType: 1, battery: 80, signal: 20, seed: i, behaviour: NO_FAULTS }) as DeviceProfile;
const leftover = { kind: 'error', code: 'ABORTED', seen: [{ messageId: 9, at: [1_000, 13_000], answered: false, cut: true }] };

describe('the transport’s leftover at the run’s end', () => {
  it('reads as the seen records, cut short; nothing when there are none', () => {
    expect(lwm2mFactsOfLeftover(leftover)).toEqual({ seen: [{ at: [1_000, 13_000], answered: false, cut: true }] });
    expect(lwm2mFactsOfLeftover({ seen: [] })).toBeUndefined();
    expect(lwm2mFactsOfLeftover({})).toBeUndefined();
  });

  it('becomes a run-end exchange of a device with evidence; a device never heard of gets none', () => {
    const c = EvidenceCollector.for(lwm2mPlugin as unknown as DialectPlugin, { originVirtual: 0, authTtlSec: undefined, profileOf: profile })!;
    c.exchange(0, { op: 'sleep' }, { kind: 'done' }, { type: 'done' }, 'done', { kind: 'asleep' }, { decided: 500, sent: 500, answered: 500 });
    c.leftover(0, leftover, { kind: 'asleep' }, 300_000);
    c.leftover(1, leftover, { kind: 'asleep' }, 300_000);
    const batch = c.finish(() => ({ kind: 'asleep' }), () => false);
    const devices = batch.devices ?? [];
    expect(devices.map((d) => d.id)).toEqual(['lwm2m-0']);
    expect(devices[0]!.exchanges.map((e) => [e.op, e.outcome, e.answered])).toEqual([
      ['sleep', 'done', 500],
      ['run-end', 'run-end', 300_000],
    ]);
    expect(devices[0]!.exchanges[1]!.facts.seen).toEqual([{ at: [1_000, 13_000], answered: false, cut: true }]);
  });
});
