/**
 * What each device did that makes the platform push (DeviceTrail, ./judge.ts), read from the
 * devices' evidence (src/verdicts/evidence.ts): its accepted progress steps, and the first call
 * the platform accepted as the task's end: a version report naming the offered target, a 201, or
 * a failure code. Times are the instants the requests went out (virtual ms since the run's start).
 */
import type { DeviceEvidence, EvidenceBatch } from '../verdicts/evidence.js';
import { readSpill } from '../verdicts/spill.js';
import type { DeviceTrail } from './judge.js';

const UPGRADED = 201;
const DOWNLOADED = 101;

export function trailOf(d: DeviceEvidence): DeviceTrail {
  const progress = new Map<number, number>();
  let offered: string | undefined;
  let end: DeviceTrail['end'];
  for (const x of d.exchanges) {
    const f = x.facts;
    if (f.probe) continue;
    if (x.op === 'check' && f.errno === 0 && f.offerTarget !== undefined) offered = f.offerTarget;
    if (f.errno !== 0 || end !== undefined) continue;
    if (x.op === 'reportVersion' && offered !== undefined && f.version === offered && progress.size > 0) end = { ok: true, at: x.sent, code: UPGRADED };
    else if ((x.op === 'progress' || x.op === 'result') && f.step !== undefined) {
      if (f.step >= 0 && f.step <= 100) {
        if (!progress.has(f.step)) progress.set(f.step, x.sent);
      } else if (f.step !== DOWNLOADED) end = { ok: f.step === UPGRADED, at: x.sent, code: f.step };
    }
  }
  return end === undefined ? { progress } : { progress, end };
}

/**
 * Every device's trail from the workers' evidence (in memory or spilled); `unknown` counts devices
 * that acted but left no evidence (`lost`: those of workers that died).
 */
export async function readTrails(batches: readonly EvidenceBatch[], lost: number): Promise<{ trails: Map<string, DeviceTrail>; unknown: number }> {
  const trails = new Map<string, DeviceTrail>();
  let unknown = lost;
  for (const b of batches) {
    unknown += Math.max(0, b.seen - b.stored);
    for (const d of b.devices ?? []) trails.set(d.id, trailOf(d));
    if (b.file !== undefined) for await (const d of readSpill(b.file)) trails.set(d.id, trailOf(d));
  }
  return { trails, unknown };
}
