/** The probe's verdict, the rerun hints and the probe's evidence, all pure. */
import { describe, expect, it } from 'vitest';
import { diagnoseProbe, keySourceOf, probeNote, type ProbeResult } from '../../src/engine/diagnosis.js';
import { probeAmendment } from '../../src/engine/probe.js';
import { rerunHints } from '../../src/report/hints.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { DeviceEvidence } from '../../src/verdicts/evidence.js';

const onenet = (over = {}) =>
  parseScenario('dialect: onenet\ntarget: { onenet: { productId: "198290" } }\nfleet:\n  cohorts:\n    - { name: c, count: 2, ids: "522700000..522700009", version: V1.0 }\n', 's.yaml', over);
const luat = parseScenario('dialect: luat\ntarget: { luat: { firmwareName: fw } }\nfleet:\n  cohorts:\n    - { name: m, count: 2, ids: "86671404{0000000..0000009}", version: 1.3.1 }\n', 'l.yaml');
const probe = (...outcomes: [string, string][]): ProbeResult => ({ device: 'D', cohort: 'c', calls: outcomes.map(([op, outcome]) => ({ op, outcome })) });

describe('diagnoseProbe', () => {
  it('OneNET errno 1 anywhere: refused, naming the key source, the product id and where it came from', () => {
    const v = diagnoseProbe(onenet(), probe(['reportVersion', 'errno:1'], ['check', 'errno:1']), 'OTA_SWARM_ONENET_ACCESS_KEY (environment)');
    expect(v.kind).toBe('refused');
    const line = (v as { line: string }).line;
    expect(line).toBe(
      "probe: the target refused device D (cohort c): reportVersion errno:1 auth failed / no such device: the access key or the product id is wrong, or the product has no such device. Key: OTA_SWARM_ONENET_ACCESS_KEY (environment); product id: 198290 (target.onenet.productId in s.yaml), --product-id overrides; device ids: cohort c's ids",
    );
    expect(line).not.toContain('\n');
    const flagged = diagnoseProbe(onenet({ productId: '77' }), probe(['check', 'errno:1']), 'k');
    expect((flagged as { line: string }).line).toContain('product id: 77 (--product-id)');
  });

  it('OneNET answers that are not about authentication let the fleet go', () => {
    for (const o of ['errno:0', 'errno:11', 'net:ECONNREFUSED', 'http:503', 'errno:2']) expect(diagnoseProbe(onenet(), probe(['check', o]), 'k').kind).toBe('go');
  });

  it('Luat 25, 26, 3 and 17 each say what is wrong; 27, 43, 40 and a file let the fleet go', () => {
    const line = (o: string): string => (diagnoseProbe(luat, probe(['luat', o]), 'OTA_SWARM_LUAT_PROJECT_KEY (environment)') as { line: string }).line;
    expect(line('code:25')).toMatch(/code:25 invalid project: the project key is wrong\. Key: OTA_SWARM_LUAT_PROJECT_KEY \(environment\)$/);
    expect(line('code:26')).toMatch(/code:26 invalid firmware: the project has no firmware named fw \(target\.luat\.firmwareName in l\.yaml\)$/);
    expect(line('code:3')).toMatch(/code:3 invalid device: the server did not take the device id D as an IMEI/);
    expect(line('code:17')).toMatch(/code:17 no permission: device D, firmware fw and the project are not under one account/);
    for (const o of ['code:27', 'code:43', 'code:40', 'file']) expect(diagnoseProbe(luat, probe(['luat', o]), 'k').kind).toBe('go');
  });

  it('names where a key came from', () => {
    expect(keySourceOf(undefined, 'f', 'ENV_X', false)).toBe('ENV_X (environment)');
    expect(keySourceOf(undefined, 'f', 'ENV_X', true)).toBe("the key read from the server's admin catalog (no ENV_X)");
    expect(keySourceOf({ env: 'MINE' }, 'f', 'ENV_X', false)).toBe('MINE (environment, named by f)');
    expect(keySourceOf({ file: '/k' }, 'f', 'ENV_X', false)).toBe('the file /k (f)');
    expect(keySourceOf('inline', 'f', 'ENV_X', false)).toBe('f (inline in the scenario)');
  });

  it('the note says what each call got, and for Luat that the ask counted toward the ban', () => {
    expect(probeNote('luat', probe(['luat', 'code:43']))).toBe(
      "a probe ran before the fleet with device D: luat code:43 please wait (diff being built) (kept out of the histograms; the verdicts count its calls as the device's, as the server did; its ask counts once toward D's daily ban limit on the server)",
    );
  });
});

describe('rerunHints', () => {
  const report = (byFinalState: Record<string, number>, dialect = 'onenet') => ({ dialect, target: 'http://127.0.0.1:1', devices: { total: 10, started: 10, byFinalState } });

  it('most devices up-to-date against a target: says they were likely upgraded before, and how to reset', () => {
    const [hint] = rerunHints(report({ 'up-to-date': 10 }), false);
    expect(hint).toMatch(/^10 of 10 devices ended up-to-date \(errno:11 no task\): .* earlier run against http:\/\/127\.0\.0\.1:1 already upgraded them/);
    expect(hint).toContain('http://127.0.0.1:1/admin/reset');
    expect(rerunHints(report({ 'up-to-date': 6, succeeded: 4 }, 'luat'), false)[0]).toMatch(/\(code:27 already newest\)/);
  });

  it('no hint for the embedded server, a fleet that upgraded, or a few up-to-date devices', () => {
    expect(rerunHints(report({ 'up-to-date': 10 }), true)).toEqual([]);
    expect(rerunHints(report({ succeeded: 10 }), false)).toEqual([]);
    expect(rerunHints(report({ succeeded: 7, 'up-to-date': 3 }), false)).toEqual([]);
  });

  it('Luat: most devices banned', () => {
    expect(rerunHints(report({ banned: 8, succeeded: 2 }, 'luat'), false)[0]).toMatch(/^8 of 10 devices ended banned \(code:40 loop ban\): .*lift-all/);
  });
});

describe('probeAmendment', () => {
  it("puts the probe's exchanges first in its device's evidence, at times relative to the origin", () => {
    const device: DeviceEvidence =
        { id: 'D', index: 0, cohort: 'c', profile: { version: '1', manuf: '', model: '', core: '', signal: 0, battery: 0, taskType: 2 }, behaviour: { corruptDownload: false, rebootIntoOld: false }, exchanges: [{ decided: 5, sent: 5, answered: 6, op: 'luat', outcome: 'file', state: 'rebooting', facts: {} }], truncated: 0 };
    const probed = { device: 'D', exchanges: [{ decided: 900, sent: 900, answered: 901, op: 'luat', outcome: 'code:43', state: 'waiting', facts: { code: 43 } }] };
    const out = probeAmendment(probed, 1000)!(device);
    expect(out.exchanges.map((e) => [e.sent, e.outcome])).toEqual([
      [-100, 'code:43'],
      [5, 'file'],
    ]);
    expect(device.exchanges).toHaveLength(1);
    expect(probeAmendment(probed, 1000)!({ ...device, id: 'E' })).toEqual({ ...device, id: 'E' });
    expect(probeAmendment(undefined, 1000)).toBeUndefined();
  });
});
