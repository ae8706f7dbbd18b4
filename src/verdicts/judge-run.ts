/**
 * The verdict side of a run, as the engine calls it: the folder the workers spill evidence to,
 * the final-state agreement with the server, and the verdicts with violations.jsonl. Each always
 * answers: a part that could not be judged says so and why, never falls silent.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Report, TransitionsReport, VerdictReport } from '../report/types.js';
import type { DeviceEvidence, EvidenceBatch } from './evidence.js';
import { rulesOf, runVerdicts, type VerdictInput, type VerdictScenario, type ViolationLine } from './run.js';
import { compareWithServer } from './server-agreement.js';
import type { AdminApi, AppliedEvent } from './server-events.js';
import { openViolationsFile, type ViolationsFile } from './violations-file.js';

const firstLine = (err: unknown): string => (err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err));

/**
 * A fresh temporary folder for the workers' evidence; `remove` deletes it and what is in it. In
 * the system's temp folder (made, one level, when TMPDIR names one that is not there yet), else
 * in `besides` (the run folder): a run never fails for want of a scratch folder.
 */
export async function evidenceFolder(besides?: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const made = (dir: string) => ({ dir, remove: () => rm(dir, { recursive: true, force: true }) });
  try {
    return made(await mkdtemp(join(tmpdir(), 'ota-swarm-evidence-')));
  } catch (first) {
    await mkdir(tmpdir()).catch(() => {});
    const again = await mkdtemp(join(tmpdir(), 'ota-swarm-evidence-')).catch(() => undefined);
    if (again !== undefined) return made(again);
    if (besides === undefined) throw new Error(`no folder for the devices' evidence: ${firstLine(first)}`);
    await mkdir(besides).catch(() => {});
    return made(await mkdtemp(join(besides, '.evidence-')));
  }
}

export const NO_ADMIN_API = 'the target has no admin API we can use: the server\'s own view of the devices is unknown';

type Agreement = NonNullable<TransitionsReport['serverAgreement']>;

/** The final states compared with the server's view, or why they were not. */
export async function serverAgreementOf(
  dialect: string,
  finals: readonly { id: string; state: string }[],
  admin: AdminApi | undefined,
  endedBy: Report['endedBy'],
  log: (line: string) => void,
): Promise<Agreement> {
  const not = (reason: string): Agreement => ({ status: 'not-judged', reason, checked: 0, disagreements: 0, samples: [] });
  if (admin === undefined) return not(NO_ADMIN_API);
  if (endedBy === 'interrupted') return not('the run was interrupted: devices stopped mid-way, their final states say nothing');
  try {
    const a = await compareWithServer(dialect, finals, admin);
    if (a.checked === 0) return { ...a, status: 'not-judged', reason: 'no device ended in a state the server\'s view says something about' };
    return { status: 'judged', ...a };
  } catch (err) {
    log(`could not compare final states with the server: ${firstLine(err)}`);
    return not(`the admin API failed: ${firstLine(err)}`);
  }
}

export interface JudgeInput {
  scenario: VerdictScenario;
  results: readonly { evidence?: EvidenceBatch }[];
  admin: AdminApi | undefined;
  events: readonly AppliedEvent[];
  originVirtual: number;
  log: (line: string) => void;
  violationsFile: string | undefined;
  /** Applied to each device's evidence as it is read (see VerdictInput.amend). */
  amend?: (d: DeviceEvidence) => DeviceEvidence;
  /** See VerdictInput.notes. */
  notes?: readonly string[];
  profile?: VerdictInput['profile'];
  targetClock?: VerdictInput['targetClock'];
  notJudged?: VerdictInput['notJudged'];
  unfinished?: VerdictInput['unfinished'];
}

/**
 * The verdicts, every violation streamed to `violationsFile` when given. When judging fails, every
 * rule is not judged with the reason and `error` says so (the run then fails: a verdict that could
 * not be reached is no pass). A file that cannot be written stops being written, with one line,
 * and is not named in the report; the counts and samples stay.
 */
export async function judgeVerdicts(j: JudgeInput): Promise<{ verdicts?: VerdictReport[]; violationsFile?: string; error?: string }> {
  let file: ViolationsFile | undefined;
  try {
    file = j.violationsFile !== undefined ? await openViolationsFile(j.violationsFile) : undefined;
  } catch (err) {
    j.log(`could not write ${j.violationsFile}: ${firstLine(err)} (violations are counted and sampled in the report only)`);
  }
  let writeFailed = false;
  const sink = async (line: ViolationLine): Promise<void> => {
    if (file === undefined || writeFailed) return;
    try {
      await file.write(line);
    } catch (err) {
      writeFailed = true;
      j.log(`could not write ${file.path}: ${firstLine(err)} (violations are counted and sampled in the report only)`);
    }
  };
  try {
    const verdicts = await runVerdicts({
      scenario: j.scenario,
      batches: j.results.flatMap((r) => (r.evidence ? [r.evidence] : [])),
      ...(j.admin ? { admin: j.admin } : {}),
      events: j.events,
      originVirtual: j.originVirtual,
      log: j.log,
      ...(j.amend ? { amend: j.amend } : {}),
      ...(j.notes && j.notes.length > 0 ? { notes: j.notes } : {}),
      ...(j.profile ? { profile: j.profile } : {}),
      ...(j.targetClock ? { targetClock: j.targetClock } : {}),
      ...(j.notJudged ? { notJudged: j.notJudged } : {}),
      ...(j.unfinished !== undefined ? { unfinished: j.unfinished } : {}),
      ...(file ? { violations: sink } : {}),
    });
    return { verdicts, ...(file && !writeFailed ? { violationsFile: basename(file.path) } : {}) };
  } catch (err) {
    j.log(`could not judge the transition verdicts: ${firstLine(err)}`);
    const reason = `judging failed: ${firstLine(err)}`;
    const verdicts = rulesOf(j.scenario.dialect).map((r): VerdictReport => ({ rule: r.name, description: r.description, status: 'not-judged', reason, checked: 0, violations: 0, samples: [] }));
    return { verdicts, error: `the verdicts could not be judged: ${firstLine(err)}` };
  } finally {
    await file?.close().catch((err: unknown) => {
      if (!writeFailed) j.log(`could not finish ${file.path}: ${firstLine(err)}`);
    });
  }
}
