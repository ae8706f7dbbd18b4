/** The probe's verdict for hawkBit, and the meanings of DDI statuses in outcome labels. */
import { describe, expect, it } from 'vitest';
import { diagnoseProbe, type ProbeResult } from '../../src/engine/diagnosis.js';
import { outcomeMeaning } from '../../src/protocol/meanings.js';
import { parseScenario } from '../../src/scenario/load.js';

const hawkbit = parseScenario('dialect: hawkbit\ntarget: { hawkbit: { tenant: acme } }\nfleet:\n  cohorts:\n    - { name: c, count: 2, ids: "dev-{0000000..0000009}", version: "1.0" }\n', 'h.yaml');
const probe = (...outcomes: [string, string][]): ProbeResult => ({ device: 'D', cohort: 'c', calls: outcomes.map(([op, outcome]) => ({ op, outcome })) });

describe('hawkBit probe', () => {
  it('a poll answered 401 or 404 stops the run in one line naming the token source or the tenant and ids', () => {
    const v401 = diagnoseProbe(hawkbit, probe(['poll', 'http:401']), 'OTA_SWARM_HAWKBIT_TOKEN_KEY (environment)');
    expect((v401 as { line: string }).line).toBe(
      "probe: the target refused device D (cohort c): poll http:401 not authenticated: the device's token is not the server's (tenant acme). Token from: OTA_SWARM_HAWKBIT_TOKEN_KEY (environment)",
    );
    const v404 = diagnoseProbe(hawkbit, probe(['poll', 'http:404']), 'k');
    expect((v404 as { line: string }).line).toMatch(/poll http:404 no such tenant, target, action or artifact: the server has no tenant acme \(target\.hawkbit\.tenant in h\.yaml\) or no target D in it/);
    for (const o of ['http:200', 'http:200 deploymentBase', 'http:429', 'net:ECONNREFUSED']) expect(diagnoseProbe(hawkbit, probe(['poll', o]), 'k').kind).toBe('go');
    expect(diagnoseProbe(hawkbit, probe(['poll', 'http:200'], ['deployment', 'http:404']), 'k').kind).toBe('go');
  });

  it('labels DDI statuses with their meaning', () => {
    expect(outcomeMeaning('hawkbit', 'feedback', 'http:410')).toBe('action closed');
    expect(outcomeMeaning('hawkbit', 'poll', 'http:429')).toBe('too many requests');
    expect(outcomeMeaning('hawkbit', 'poll', 'http:200')).toBeUndefined();
  });
});
