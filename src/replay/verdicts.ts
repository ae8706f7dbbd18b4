/**
 * The verdicts of a replay, by the same pipeline as a run's: each replayed call becomes the
 * dialect's device request again, its answer is read by the dialect's wire and its evidence codec
 * (factsOf) into the EvidenceCollector a worker uses, and the devices' evidence is judged by the
 * streamed judge with the rule registry (verdicts/judge-run.ts: violations.jsonl, a status per rule).
 *
 * A replayed device has no machine: it sends the logged calls whatever the answers. What a rule
 * reads of a machine is therefore not there, and says so:
 * - no device ends in a final state (every rule's final-state part is skipped; a note says so);
 * - the rules below judge nothing but the machine, or the harness's own faults and timers: they
 *   are reported not judged with the reason, never evaluated;
 * - the device's side of loop-ban (it stops asking after a 40) and of waits-not-banned (it backs
 *   off after a 43) would judge the logged gaps, not a decision: a replayed device may ask again
 *   and has no backoff. The server's side of both is judged.
 */
import { basename, dirname, extname, join } from 'node:path';
import type { DialectPlugin, HttpResult } from '../dialect/types.js';
import { getDialect } from '../dialect/registry.js';
import type { Behaviour, DeviceProfile } from '../device/types.js';
import { DEFAULT_DEVICE_SETTINGS } from '../device/types.js';
import { EvidenceCollector } from '../verdicts/collect.js';
import { judgeVerdicts } from '../verdicts/judge-run.js';
import type { VerdictScenario } from '../verdicts/run.js';
import type { AdminApi } from '../verdicts/server-events.js';
import type { VerdictReport } from '../report/types.js';
import { replayDialect, type DeviceFacts, type ReplayDialect, type ReplaySettings } from '../exchanges/calls.js';
import type { ReplayedCall } from './drive.js';
import type { DeviceScript } from './script.js';

/** The rules a replay cannot judge at all, and why (the report prints "not judged (why)"). */
export const REPLAY_NOT_JUDGED: ReadonlyMap<string, string> = new Map([
  ['final-state-agreement', 'a replayed device has no machine, so no final state to compare with the server\'s view'],
  [
    'coap-retransmit',
    'it judges the retransmission timers of the harness\'s own devices; a replay resends a lost call at the gap the log shows, which no timer of this harness decided',
  ],
  [
    'failure-codes',
    'it judges the faults a scenario gives its devices (full storage, a dying battery, a failing flash); a log does not say which a device had (run the emitted scenario)',
  ],
]);

/** Why a replay does not check the transition rules (a run's `transitions` section). */
export const TRANSITIONS_NOT_JUDGED =
  'not judged, because the transition rules check the moves of a device machine (its states) and a replayed device has none: it sends the logged calls; run the emitted scenario (--emit-scenario) to check them';

/** What every rule judged on a replay is limited by. */
export const REPLAY_NOTE =
  'replayed devices send the logged calls whatever the answers, with no machine: no device has a final state, so the parts of a rule about how a device ended, backed off or stopped asking are not judged';

/** The state a replayed device is in after each call (it has no machine to have another). */
const REPLAYED = { kind: 'replayed' } as const;

/** A replayed device asks as its log did: after a 40 too (loop-ban judges the server's side only). */
const REPLAYED_BEHAVIOUR: Behaviour = { corruptDownload: false, rebootIntoOld: false, askAfterBan: { asks: Number.MAX_SAFE_INTEGER } };

const REPLAY_COHORT = 'replay';

/** The one cohort replayed devices stand in: no backoff of their own (the log's gaps), no radio modelled. */
const replayScenario = (dialect: string): VerdictScenario => ({
  dialect: dialect as VerdictScenario['dialect'],
  fleet: { cohorts: [{ name: REPLAY_COHORT, settings: { ...DEFAULT_DEVICE_SETTINGS, waitBackoffMs: 0 }, radio: { mode: 'always-on' } }] },
  server: { events: [] },
});

interface DialectEvidence {
  readonly plugin: DialectPlugin<{ readonly kind: string }, unknown, unknown>;
  readonly replay: ReplayDialect;
  readonly collector: EvidenceCollector;
  /** Each device's slot (its index among this dialect's devices) and what its requests told of it. */
  readonly slots: Map<string, number>;
  readonly facts: Partial<DeviceFacts>[];
  readonly ids: string[];
}

export interface ReplayVerdicts {
  /** Every rule of each replayed dialect: judged, partly judged, or not judged and why. */
  rules: VerdictReport[];
  /** The violations files written, when one was asked for and could be written. */
  violationsFiles: string[];
  /** Judging failed (the replay then fails: a verdict not reached is no pass). */
  error?: string;
}

/** The file for one dialect's violations: the asked-for one, or `name-<dialect>.ext` when the log mixes dialects. */
function fileFor(file: string, dialect: string, mixed: boolean): string {
  if (!mixed) return file;
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}-${dialect}${ext}`);
}

/** Collects the replayed calls as verdict evidence (bounded: the collector keeps at most MAX_EXCHANGES a device), then judges them. */
export class ReplayEvidence {
  private readonly dialects = new Map<string, DialectEvidence>();
  private readonly dialectOf = new Map<string, string>();
  private unreadable = 0;
  private unsized = 0;

  constructor(
    scripts: readonly DeviceScript[],
    private readonly originVirtual: number,
    settings: ReplaySettings,
  ) {
    for (const s of scripts) {
      let d = this.dialects.get(s.dialect);
      const replay = replayDialect(s.dialect);
      if (d === undefined && replay !== undefined) {
        const plugin = getDialect(s.dialect) as DialectPlugin<{ readonly kind: string }, unknown, unknown>;
        const facts: Partial<DeviceFacts>[] = [];
        const ids: string[] = [];
        const collector = EvidenceCollector.for(plugin, { originVirtual, authTtlSec: plugin.target?.authTtlSec?.(settings[s.dialect] as never), profileOf: (slot) => profileOf(ids[slot] ?? '', slot, facts[slot] ?? {}) });
        if (collector === undefined) continue;
        d = { plugin, replay, collector, slots: new Map(), facts, ids };
        this.dialects.set(s.dialect, d);
      }
      if (d === undefined || d.slots.has(s.device)) continue;
      d.slots.set(s.device, d.ids.length);
      d.ids.push(s.device);
      d.facts.push({});
      this.dialectOf.set(s.device, s.dialect);
    }
  }

  /** One replayed call, read as its dialect reads a device's exchange. */
  add(c: ReplayedCall): void {
    const d = this.dialects.get(this.dialectOf.get(c.device) ?? '');
    const slot = d?.slots.get(c.device);
    if (d === undefined || slot === undefined) return;
    const request = d.replay.deviceRequest(c.sent, c.device, c.total);
    if (request === undefined) {
      this.unsized++;
      return;
    }
    let answer: unknown;
    let outcome: string;
    try {
      answer = d.plugin.wire.decode(request, c.result as HttpResult);
      outcome = d.plugin.wire.outcomeOf(answer);
    } catch {
      // A run's device would crash on it; the replay goes on, and the note says the call was not read.
      this.unreadable++;
      return;
    }
    const facts = d.facts[slot] as Partial<DeviceFacts>;
    if (facts.version === undefined) Object.assign(facts, d.replay.profileOf(request));
    d.collector.exchange(slot, request, c.result, answer, outcome, REPLAYED, { decided: c.decidedAt, sent: c.sentAt, answered: c.answeredAt });
  }

  /** Every rule of each dialect, through the run's judge; `admin`: the server's view (absent: the rules say so). */
  async judge(o: { admin?: AdminApi; violationsFile?: string; log: (line: string) => void }): Promise<ReplayVerdicts> {
    const rules: VerdictReport[] = [];
    const violationsFiles: string[] = [];
    const errors: string[] = [];
    const notes = [REPLAY_NOTE, ...(this.unreadable > 0 ? [`${this.unreadable} answer(s) the dialect's wire could not read are not in the evidence`] : []),
      ...(this.unsized > 0 ? [`${this.unsized} download(s) made before any check of the log offered the file's size are not in the evidence (the bytes a device held then are unknown)`] : [])];
    for (const [dialect, d] of this.dialects) {
      const evidence = d.collector.finish(() => undefined, () => false);
      const file = o.violationsFile !== undefined ? fileFor(o.violationsFile, dialect, this.dialects.size > 1) : undefined;
      const judged = await judgeVerdicts({
        scenario: replayScenario(dialect),
        results: [{ evidence }],
        admin: o.admin,
        events: [],
        originVirtual: this.originVirtual,
        log: o.log,
        violationsFile: file,
        notJudged: REPLAY_NOT_JUDGED,
        unfinished: '(replayed: the log ends here; a replayed device has no final state)',
        notes,
      });
      rules.push(...(judged.verdicts ?? []));
      if (judged.violationsFile !== undefined && file !== undefined) violationsFiles.push(file);
      if (judged.error !== undefined) errors.push(judged.error);
    }
    return { rules, violationsFiles, ...(errors.length > 0 ? { error: errors.join('; ') } : {}) };
  }
}

function profileOf(id: string, index: number, f: Partial<DeviceFacts>): DeviceProfile {
  return {
    index,
    id,
    cohort: REPLAY_COHORT,
    version: f.version ?? '',
    manuf: f.manuf ?? '',
    model: f.model ?? '',
    core: f.core ?? '',
    taskType: f.taskType ?? 2,
    battery: f.battery ?? 100,
    signal: f.signal ?? 31,
    seed: 0,
    behaviour: REPLAYED_BEHAVIOUR,
  };
}
