/**
 * `ota-swarm compare BASE NEW` and `ota-swarm report RUN_DIR`.
 *
 * compare: the CI regression gate. BASE and NEW are run folders or report.json paths. Prints a
 * table of every compared figure; exit 1 when any regressed past --max-regression, 0 otherwise,
 * 2 when an input cannot be read, the bound is not a share, or the runs are of different scenarios
 * or dialects and --force was not given (one line on stderr).
 *
 * report: re-renders report.html and junit.xml from a run folder's report.json (after an upgrade of
 * ota-swarm, or for a report copied from elsewhere). Exit 0, or 2 when the report cannot be read.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { compareReports, formatComparison, parseRegressionBound, printable, unrelatedRuns } from '../report/compare.js';
import { ReportInputError, readReport, renderRunDir } from '../report/render-run.js';

export const REPORT_EXIT = { ok: 0, regressed: 1, badInput: 2 } as const;

export interface CompareArgs {
  base: string;
  new: string;
  'max-regression': string;
  /** Compare runs of different scenarios or dialects anyway. */
  force?: boolean;
}

export interface ReportArgs {
  runDir: string;
}

/** Where a command writes: the terminal, or a test's strings. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const STDIO: Output = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** The compare command's work; returns the exit status. */
export async function runCompare(a: CompareArgs, io: Output = STDIO): Promise<number> {
  const bound = parseRegressionBound(a['max-regression']);
  if (bound === undefined) {
    io.err(`ota-swarm compare: --max-regression: "${a['max-regression']}" is not a share (write 10% or 0.1)\n`);
    return REPORT_EXIT.badInput;
  }
  try {
    const [base, next] = await Promise.all([readReport(a.base), readReport(a.new)]);
    const unrelated = unrelatedRuns(base, next);
    if (unrelated !== undefined && a.force !== true) {
      io.err(`ota-swarm compare: ${unrelated}: refusing to judge one against the other (--force compares them anyway)\n`);
      return REPORT_EXIT.badInput;
    }
    if (unrelated !== undefined) io.err(`ota-swarm compare: warning: ${unrelated}, compared because of --force\n`);
    const comparison = compareReports(base, next, bound);
    io.out(`ota-swarm compare: ${printable(base.scenario)} (${printable(base.startedAt)}) → ${printable(next.scenario)} (${printable(next.startedAt)}), bound ${pct(bound)}\n\n`);
    io.out(formatComparison(comparison));
    return comparison.regressed ? REPORT_EXIT.regressed : REPORT_EXIT.ok;
  } catch (e) {
    io.err(`ota-swarm compare: ${oneLine(e)}\n`);
    return REPORT_EXIT.badInput;
  }
}

/** The report command's work; returns the exit status. */
export async function runReport(a: ReportArgs, io: Output = STDIO): Promise<number> {
  try {
    const written = await renderRunDir(a.runDir);
    io.out(`html:  ${written.html}\njunit: ${written.junit}\n`);
    return REPORT_EXIT.ok;
  } catch (e) {
    io.err(`ota-swarm report: ${oneLine(e)}\n`);
    return REPORT_EXIT.badInput;
  }
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <base> <new>',
  describe: 'compare two runs (folders or report.json files); exit 1 when NEW regressed past --max-regression',
  builder: (y: Argv<object>) =>
    y
      .positional('base', { type: 'string', demandOption: true, describe: 'the reference run: run folder or report.json' })
      .positional('new', { type: 'string', demandOption: true, describe: 'the run to judge: run folder or report.json' })
      .option('max-regression', {
        type: 'string',
        default: '10%',
        describe: 'largest tolerated worsening of p50, p99, error rate and final-state shares (e.g. 10% or 0.1)',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'compare runs of different scenarios or dialects (refused otherwise, exit 2)',
      }) as unknown as Argv<CompareArgs>,
  handler: async (argv: ArgumentsCamelCase<CompareArgs>) => {
    process.exitCode = await runCompare(argv);
  },
};

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <runDir>',
  describe: 'render report.html and junit.xml from the report.json in a run folder',
  builder: (y: Argv<object>) =>
    y.positional('runDir', { type: 'string', demandOption: true, describe: 'run folder holding report.json' }) as unknown as Argv<ReportArgs>,
  handler: async (argv: ArgumentsCamelCase<ReportArgs>) => {
    process.exitCode = await runReport(argv);
  },
};

function oneLine(e: unknown): string {
  const text = e instanceof ReportInputError || e instanceof Error ? e.message : String(e);
  return text.split('\n')[0] ?? text;
}

function pct(f: number): string {
  return `${Number((f * 100).toPrecision(4))}%`;
}
