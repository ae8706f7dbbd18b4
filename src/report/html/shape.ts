/**
 * What a `report.json` read from disk must look like before anything renders or compares it. A
 * report may come from another version, be hand-edited or truncated; the renderers index into it
 * freely, so a file that is not shaped like a `Report` is refused here with the first field that is
 * wrong, rather than crashing somewhere deep in a chart.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Report } from '../types.js';

const Num = Type.Number();
const Str = Type.String();
const Counts = Type.Record(Type.String(), Num);

const Latency = Type.Object({ p50: Num, p90: Num, p99: Num, p999: Num, max: Num, mean: Num });
const Lag = Type.Object({ p50: Num, p99: Num, max: Num });

const Operation = Type.Object({
  count: Num,
  errors: Num,
  byOutcome: Counts,
  latencyMs: Latency,
  serviceMs: Latency,
  histogram: Str,
  serviceHistogram: Str,
  queuedMs: Type.Optional(Latency),
  queuedHistogram: Type.Optional(Str),
  unfinished: Type.Optional(Type.Object({ inFlight: Num, queued: Num })),
});

const Step = Type.Object({ t: Num, state: Str, cause: Str });

const Transitions = Type.Object({
  checked: Num,
  violations: Num,
  byRule: Counts,
  unfinished: Num,
  samples: Type.Array(Type.Object({ device: Str, rule: Str, detail: Str, trace: Type.Array(Step) })),
  serverAgreement: Type.Optional(
    Type.Object({
      checked: Num,
      disagreements: Num,
      samples: Type.Array(Type.Object({ device: Str, device_state: Str, server_state: Str })),
    }),
  ),
});

const Series = Type.Object({
  bucketSeconds: Num,
  t: Type.Array(Num),
  requests: Type.Array(Num),
  errors: Type.Array(Num),
  arrivals: Type.Array(Num),
});

const ReportShape = Type.Object({
  format: Type.Literal(1),
  scenario: Str,
  target: Str,
  dialect: Str,
  seed: Num,
  timeScale: Type.Union([Num, Type.Literal('max')]),
  startedAt: Str,
  virtualStartMs: Num,
  durationMs: Num,
  virtualDurationMs: Num,
  devices: Type.Object({ total: Num, byFinalState: Counts, started: Num }),
  operations: Type.Record(Type.String(), Operation),
  transitions: Transitions,
  expectations: Type.Array(Type.Object({ name: Str, passed: Type.Boolean(), detail: Str })),
  harness: Type.Object({
    workers: Num,
    eventLoopLagMs: Lag,
    scheduleLagMs: Lag,
    eventLoopUtilization: Type.Optional(Num),
    bottleneck: Type.Boolean(),
    notes: Type.Array(Str),
    lagHistograms: Type.Optional(Type.Object({ eventLoop: Str, schedule: Str })),
    start: Type.Optional(
      Type.Object({
        at: Str,
        lateByMs: Num,
        clockSkew: Type.Optional(Type.Union([Type.Object({ ms: Num, resolutionMs: Num }), Type.Object({ notJudged: Str })])),
      }),
    ),
  }),
  timeseries: Type.Optional(
    Type.Object({
      real: Series,
      virtual: Series,
      states: Type.Object({ t: Type.Array(Num), byCategory: Type.Record(Type.String(), Type.Array(Num)) }),
    }),
  ),
  interrupted: Type.Boolean(),
  endedBy: Type.Union([Type.Literal('completed'), Type.Literal('duration'), Type.Literal('interrupted'), Type.Literal('error')]),
  errors: Type.Array(Str),
  fleetSlice: Type.Optional(Type.Object({ index: Num, count: Num, devices: Num, fleetDevices: Num })),
  merged: Type.Optional(
    Type.Object({
      shards: Num,
      slices: Type.Array(
        Type.Object({
          index: Num,
          source: Str,
          status: Type.Union([Type.Literal('merged'), Type.Literal('failed'), Type.Literal('missing')]),
          reason: Type.Optional(Str),
        }),
      ),
    }),
  ),
  devicesFile: Type.Optional(Str),
  passed: Type.Boolean(),
});

// The schema and the `Report` type must describe the same thing: this fails to compile otherwise.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapeMatchesReport: Same<Static<typeof ReportShape>, Report> = true;
void shapeMatchesReport;

/** The first thing wrong with `value` as a Report, as `field path: problem`; undefined when it is one. */
export function reportShapeProblem(value: unknown): string | undefined {
  if (Value.Check(ReportShape, value)) return undefined;
  const first = Value.Errors(ReportShape, value).First();
  if (first === undefined) return 'not a report';
  const at = first.path === '' ? '(top level)' : first.path.slice(1).replace(/\//g, '.');
  return `${at}: ${first.message.toLowerCase()}`;
}

/** Parses report.json text; throws an Error whose message is one line naming `where` and the field. */
export function parseReport(text: string, where: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (typeof value === 'object' && value !== null && 'format' in value && (value as { format: unknown }).format !== 1) {
    throw new Error(`${where}: report format ${JSON.stringify((value as { format: unknown }).format)} is not supported (expected 1)`);
  }
  const problem = reportShapeProblem(value);
  if (problem !== undefined) throw new Error(`${where}: not an ota-swarm report: ${problem}`);
  return value as Report;
}
