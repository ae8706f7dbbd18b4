/**
 * What the probe's answers mean for the run (pure): a target that refuses the probe device for
 * authentication stops the run in one line naming the key's variable or file and the product id
 * and where each came from; anything else lets the fleet start, and the report says what the
 * probe got. Codes that can be told apart are told apart (Luat 25 / 26 / 3 / 17); OneNET answers
 * errno 1 alike for a bad key, a wrong product and an unknown device, so the line names all three.
 */
import type { Scenario } from '../scenario/types.js';
import { withMeaning } from '../protocol/meanings.js';
import { authRefusals } from '../dialect/declared/compile.js';
import type { OnenetTargetBlock } from '../dialect/onenet/target.js';
import type { LuatTargetBlock } from '../dialect/luat/target.js';

/** One call of the probe: its operation (histogram name) and its outcome label. */
export interface ProbeCall {
  op: string;
  outcome: string;
}

export interface ProbeResult {
  /** The probe device's id (the first device of the first cohort). */
  device: string;
  cohort: string;
  calls: ProbeCall[];
  /** The call that undid what the probe left on the server (its last call too), and whether it failed. */
  left?: ProbeCall & { failed: boolean };
}

export type ProbeVerdict = { kind: 'go' } | { kind: 'refused'; line: string };

/** Where a key came from, in words (config/secret.ts; kept here for the probe's callers). */
export { secretSourceOf as keySourceOf } from '../config/secret.js';

const refusedAt = (r: ProbeResult, outcomes: readonly string[]): ProbeCall | undefined => r.calls.find((c) => outcomes.includes(c.outcome));

const what = (dialect: string, c: ProbeCall): string => `${c.op} ${withMeaning(dialect, c.op, c.outcome)}`;

/** Whether the probe's answers show an authentication refusal, and the line that says so. */
export function diagnoseProbe(scenario: Scenario, r: ProbeResult, keySource: string): ProbeVerdict {
  const head = (c: ProbeCall): string => `probe: the target refused device ${r.device} (cohort ${r.cohort}): ${what(scenario.dialect, c)}`;
  if (scenario.dialect === 'onenet') {
    const c = refusedAt(r, ['errno:1']);
    if (c === undefined) return { kind: 'go' };
    const o = scenario.target.block as OnenetTargetBlock | undefined;
    const pid = o === undefined ? 'none' : `${o.productId} (${o.productIdFrom ?? `target.onenet.productId in ${scenario.file}`})`;
    return {
      kind: 'refused',
      line: `${head(c)}: the access key or the product id is wrong, or the product has no such device. Key: ${keySource}; product id: ${pid}, --product-id overrides; device ids: cohort ${r.cohort}'s ids`,
    };
  }
  if (scenario.dialect === 'luat') {
    const fw = (scenario.target.block as LuatTargetBlock | undefined)?.firmwareName ?? '?';
    const why: Readonly<Record<string, string>> = {
      'code:25': `the project key is wrong. Key: ${keySource}`,
      'code:26': `the project has no firmware named ${fw} (target.luat.firmwareName in ${scenario.file})`,
      'code:3': `the server did not take the device id ${r.device} as an IMEI (cohort ${r.cohort}'s ids)`,
      'code:17': `device ${r.device}, firmware ${fw} and the project are not under one account: a key of another project (${keySource}) or ids the account does not have (cohort ${r.cohort}'s ids)`,
    };
    const c = refusedAt(r, Object.keys(why));
    if (c === undefined) return { kind: 'go' };
    return { kind: 'refused', line: `${head(c)}: ${why[c.outcome]}` };
  }
  if (scenario.dialect === 'hawkbit') {
    const tenant = (scenario.target.block as { tenant?: string } | undefined)?.tenant ?? 'DEFAULT';
    const why: Readonly<Record<string, string>> = {
      'http:401': `the device's token is not the server's (tenant ${tenant}). Token from: ${keySource}`,
      'http:404': `the server has no tenant ${tenant} (target.hawkbit.tenant in ${scenario.file}) or no target ${r.device} in it (cohort ${r.cohort}'s ids)`,
    };
    const c = r.calls.find((x) => x.op === 'poll' && Object.hasOwn(why, x.outcome));
    if (c === undefined) return { kind: 'go' };
    return { kind: 'refused', line: `${head(c)}: ${why[c.outcome]}` };
  }
  if (scenario.declared !== undefined) {
    const refusals = authRefusals(scenario.declared.dialect);
    const c = r.calls.find((call) => refusals.has(`${call.op} ${call.outcome}`));
    if (c === undefined) return { kind: 'go' };
    return { kind: 'refused', line: `${head(c)}: the server refused the credentials (${scenario.declared.file} marks this answer authFailed). Key: ${keySource}` };
  }
  return { kind: 'go' };
}

/** The report's words for a probe that let the fleet start. */
export function probeNote(dialect: string, r: ProbeResult): string {
  const calls = r.calls.length === 0 ? 'no call answered' : r.calls.map((c) => what(dialect, c)).join(', ');
  const ban = dialect === 'luat' && r.calls.length > 0 ? `; its ask counts once toward ${r.device}'s daily ban limit on the server` : '';
  const left = r.left?.failed === true ? `; its ${what(dialect, r.left)} failed: what the probe left on the server (${r.device}'s registration) stays there until it lapses` : '';
  return `a probe ran before the fleet with device ${r.device}: ${calls} (kept out of the histograms; the verdicts count its calls as the device's, as the server did${ban})${left}`;
}
