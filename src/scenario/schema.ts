/**
 * The scenario file format (YAML), as a JSON Schema built with TypeBox. Values carry human units
 * (`30s`, `16KiB`, `90%`, `500/s`); ./load.ts resolves them into a `Scenario` (./types.ts).
 *
 * One builder makes two schemas. The published one (schema/scenario.schema.json, for editors)
 * checks unit text with patterns. The loader's one accepts any text where a unit goes and lets
 * the loader say what is wrong in words: a failed regex pattern makes a poor one-line message.
 *
 * Unions of objects (arrival, radio, distributions) are written as one flat object with an
 * enumerated discriminator plus if/then rules: Ajv then reports "must be one of ..." or
 * "missing required field" instead of a guess at which branch was meant.
 */
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { DEFAULT_DEVICE_SETTINGS } from '../device/types.js';
import { BUILT_IN_TARGETS } from '../dialect/targets.js';
import { ApplicationSchema, PushPolicySchema } from './application-schema.js';
import { secretSchema } from '../config/fields.js';

export interface SchemaOptions {
  /** Check the text of units with patterns (the published schema); the loader checks them itself. */
  unitPatterns: boolean;
  /** Show the built-in dialects' `target.<name>` blocks (the published schema). */
  dialectBlocks?: boolean;
}

/** Patterns of the unit texts; the parsers in config/units.ts and ./load.ts accept the same. */
export const UNIT_PATTERNS = {
  duration: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|min|h|d)?\\s*$',
  size: '^\\s*\\d+(\\.\\d+)?\\s*([Bb]|[KkMmGg][Bb]|[KkMmGg][Ii][Bb])?\\s*$',
  share: '^\\s*\\d+(\\.\\d+)?\\s*%\\s*$',
  rate: '^\\s*\\d+(\\.\\d+)?\\s*/\\s*(s|m|min|h)\\s*$',
} as const;

export const DIALECT_EXAMPLES = ['onenet', 'luat'] as const;
export const ARRIVAL_PATTERNS = ['all-at-once', 'ramp', 'constant-rate', 'spread', 'beta', 'synchronised'] as const;
export const RADIO_MODES = ['always-on', 'psm', 'drx', 'edrx'] as const;
export const WAKE_PATTERNS = ['steady', 'outage-recovery', 'synchronised', 'daily-alignment', 'rollout-start'] as const;
export const DISTRIBUTION_KINDS = ['fixed', 'uniform', 'normal', 'lognormal', 'pareto'] as const;

/** Defaults, written as a user would write them; the loader parses these same texts. */
export const DEFAULTS = {
  seed: 1,
  timeScale: 1,
  manuf: '100',
  model: '10001',
  core: '3032',
  taskType: 2 as const,
  battery: 100,
  signal: 25,
  share: '0%',
  stopAfter: '10m',
  maxInFlightPerWorker: 256,
  lookahead: '5m',
  connectionsPerWorker: 32,
  psmT3412: '1h',
  psmT3324: '10s',
  drxCycle: '2.56s',
  edrxCycle: '81.92s',
  edrxPtw: '10.24s',
  settings: {
    chunkSize: sizeText(DEFAULT_DEVICE_SETTINGS.chunkSize),
    progressEvery: DEFAULT_DEVICE_SETTINGS.progressEvery,
    requestTimeout: durationText(DEFAULT_DEVICE_SETTINGS.requestTimeoutMs),
    reboot: durationText(DEFAULT_DEVICE_SETTINGS.rebootMs),
    maxAttempts: DEFAULT_DEVICE_SETTINGS.maxAttempts,
    retryDelay: durationText(DEFAULT_DEVICE_SETTINGS.retryDelayMs),
    maxStalledAttempts: DEFAULT_DEVICE_SETTINGS.maxStalledAttempts,
    waitBackoff: durationText(DEFAULT_DEVICE_SETTINGS.waitBackoffMs),
    ackTimeout: durationText(DEFAULT_DEVICE_SETTINGS.retransmit.ackTimeoutMs),
    randomFactor: DEFAULT_DEVICE_SETTINGS.retransmit.randomFactor,
    maxRetransmit: DEFAULT_DEVICE_SETTINGS.retransmit.maxRetransmit,
  },
};

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function sizeText(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

/** A string enum with an `enum` keyword, so a bad value reads "must be one of ...". */
function Enum<T extends string | number>(values: readonly T[], options: Record<string, unknown> = {}) {
  return Type.Unsafe<T>({ type: typeof values[0] === 'number' ? 'integer' : 'string', enum: [...values], ...options });
}

/** Unit text or a plain number; the loader turns either into ms, bytes, a fraction or a rate. */
type UnitValue = TUnsafe<string | number>;

export interface UnitKinds {
  Duration(description: string, extra?: Record<string, unknown>): UnitValue;
  Size(description: string, extra?: Record<string, unknown>): UnitValue;
  Share(description: string, extra?: Record<string, unknown>): UnitValue;
  Rate(description: string, extra?: Record<string, unknown>): UnitValue;
}

function unitKinds(opts: SchemaOptions): UnitKinds {
  // The loader's schema takes any string or number where a unit goes and checks it in words
  // (a negative number would otherwise read "must be string", naming the wrong branch).
  const unit = (pattern: string, example: string, num: TSchema, description: string, extra: Record<string, unknown> = {}): UnitValue =>
    Type.Unsafe<string | number>(
      opts.unitPatterns
        ? Type.Union([Type.String({ pattern, examples: [example] }), num], { description, ...extra })
        : Type.Union([Type.String({ examples: [example] }), Type.Number()], { description, ...extra }),
    );
  return {
    Duration: (d, extra) => unit(UNIT_PATTERNS.duration, '30s', Type.Number({ minimum: 0 }), `${d} A duration: 250ms, 30s, 5m, 2h, 1d, or a number of ms.`, extra),
    Size: (d, extra) => unit(UNIT_PATTERNS.size, '16KiB', Type.Integer({ minimum: 0 }), `${d} A size: 512B, 16KiB, 1MiB, or a number of bytes.`, extra),
    Share: (d, extra) =>
      unit(UNIT_PATTERNS.share, '10%', Type.Number({ minimum: 0, maximum: 1 }), `${d} A share: 10%, or a fraction from 0 to 1.`, extra),
    Rate: (d, extra) =>
      unit(UNIT_PATTERNS.rate, '500/s', Type.Number({ exclusiveMinimum: 0 }), `${d} A rate: 500/s, 30/m, 1000/h, or a number per second.`, extra),
  };
}

/**
 * A named distribution, as in random/distribution.ts, or one plain value. `value` is the schema of
 * each parameter that is a value of the quantity (a number, or a duration for timers).
 */
function distribution<V extends TSchema>(value: V, description: string, extra: Record<string, unknown> = {}) {
  const needs: Record<(typeof DISTRIBUTION_KINDS)[number], { required: string[]; optional: string[] }> = {
    fixed: { required: ['value'], optional: [] },
    uniform: { required: ['min', 'max'], optional: [] },
    normal: { required: ['mean', 'stddev'], optional: ['min', 'max'] },
    lognormal: { required: ['median', 'p99'], optional: ['max'] },
    pareto: { required: ['scale', 'shape'], optional: ['max'] },
  };
  const rules = DISTRIBUTION_KINDS.map((kind) => {
    const { required, optional } = needs[kind];
    const properties = Object.fromEntries(['dist', ...required, ...optional].map((k) => [k, {}]));
    return {
      if: { properties: { dist: { const: kind } }, required: ['dist'] },
      then: { required, properties, additionalProperties: false },
    };
  });
  const named = Type.Object(
    {
      dist: Enum(DISTRIBUTION_KINDS, { description: 'Shape of the distribution.' }),
      value: Type.Optional(value),
      min: Type.Optional(value),
      max: Type.Optional(value),
      mean: Type.Optional(value),
      stddev: Type.Optional(value),
      median: Type.Optional(value),
      p99: Type.Optional(value),
      scale: Type.Optional(value),
      shape: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Pareto shape (alpha).' })),
    },
    {
      additionalProperties: false,
      allOf: rules,
      description:
        'fixed {value} | uniform {min, max} | normal {mean, stddev, min?, max?} | lognormal {median, p99, max?} | pareto {scale, shape, max?}',
    },
  );
  return Type.Union([value, named], { description, ...extra });
}

/**
 * `target.profile`: what the server under test promises where platforms differ (src/protocol/profile.ts).
 * Every key is optional: a missing one comes from the admin API of a reference server, else the
 * documented value.
 */
function TargetProfileSchema(U: UnitKinds) {
  return Type.Object(
    {
      luat: Type.Optional(
        Type.Object(
          {
            banLimitPerDay: Type.Optional(Type.Integer({ minimum: 1, description: 'Counted asks a day answered normally before 40 (documented: 10).' })),
            banDayStartUtc: Type.Optional(Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'When the ban day starts, UTC HH:MM (documented: "00:00").' })),
            banCountsWaits: Type.Optional(Type.Boolean({ description: 'Whether 43 answers count toward the ban (documented: true).' })),
            diffBuild: Type.Optional(
              Type.Union(
                [
                  Type.Literal('none', { description: 'Full files at once: never a 43.' }),
                  Type.Object({ min: U.Duration('Shortest build.'), max: U.Duration('Longest build.') }, { additionalProperties: false }),
                ],
                { description: 'How long a diff package takes to build (documented: { min: 1m, max: 3m }), or none.' },
              ),
            ),
            dfota: Type.Optional(Type.Boolean({ description: 'Whether devices ask for diff packages (dfota=1; documented: true).' })),
            versionConfirm: Type.Optional(
              Enum(['re-ask', 'header', 'filename', 'none'] as const, {
                description: 'How a device learns the served version: re-ask (asks again after flashing, a 27 confirms), header (X-Firmware-Version), filename (Content-Disposition name ending _x.y.z) or none.',
              }),
            ),
            firmwareVersion: Type.Optional(Type.String({ minLength: 1, description: 'The version the served file installs, when the file names none (re-ask needs it then).' })),
          },
          { additionalProperties: false },
        ),
      ),
      onenet: Type.Optional(
        Type.Object({ tokenTtl: Type.Optional(U.Duration('Life of a task token from check (documented: 2d).')) }, { additionalProperties: false }),
      ),
      push: Type.Optional(PushPolicySchema(U)),
    },
    { additionalProperties: false, description: 'What the server under test promises (flags --profile key=value override; see scenarios/README.md).' },
  );
}

export function buildScenarioSchema(opts: SchemaOptions) {
  const U = unitKinds(opts);
  // The loader checks a dialect's block with that dialect's own schema; editors are shown the built-in ones.
  const dialectBlocks: Record<string, TSchema> = {};
  for (const [name, spec] of Object.entries(opts.dialectBlocks ? BUILT_IN_TARGETS : {})) {
    if (spec.schema !== undefined) dialectBlocks[name] = Type.Optional(Type.Unsafe(spec.schema));
  }

  const Target = Type.Object(
    {
      url: Type.Optional(
        Type.String({ minLength: 1, description: 'Base URL of the OTA server under test (--target overrides). Absent: the embedded reference server.' }),
      ),
      ...dialectBlocks,
      profile: Type.Optional(TargetProfileSchema(U)),
    },
    {
      // `target.<dialect>`: each dialect owns its block and checks it (scenario/load.ts, dialect/<name>/target.ts).
      additionalProperties: Type.Object({}, { additionalProperties: true, description: 'The block of the dialect of that name (plugins bring their own).' }),
      default: {},
      description: 'The server under test and what devices need to talk to it: url, profile, and a block named after the dialect.',
    },
  );

  const Server = Type.Object(
    {
      catalog: Type.Optional(Type.String({ minLength: 1, description: 'Catalog YAML for the embedded server, relative to this file. Absent: the built-in catalog.' })),
      faults: Type.Optional(
        Type.Object({}, { additionalProperties: true, description: 'Fault knobs of the embedded server, passed through; the server checks them when it starts.' }),
      ),
      bugs: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Deliberate bugs to switch on in the embedded server (to prove the checks catch them).' })),
      events: Type.Optional(
        Type.Array(
          Type.Object(
            {
              at: U.Duration('When, in virtual time from the run\'s start.'),
              republish: Type.Optional(Type.String({ minLength: 1, description: 'Republish this OneNET package or Luat firmware (new bytes, new md5).' })),
              liftBans: Type.Optional(Type.Boolean({ description: 'Lift every Luat loop ban.' })),
              campaign: Type.Optional(
                Type.Object(
                  {
                    endpoints: Type.String({ minLength: 1, description: 'LwM2M endpoint names: PREFIX{FIRST..LAST}, FIRST..LAST or one name.' }),
                    package: Type.String({ minLength: 1, description: 'A package of the catalog\'s lwm2m section.' }),
                    observe: Type.Optional(Type.Boolean({ description: 'Observe /5/0/3 and /5/0/5 (default) or read them on each wake.' })),
                  },
                  { additionalProperties: false, description: 'Start an LwM2M Object 5 campaign (POST /admin/lwm2m/campaigns).' },
                ),
              ),
            },
            { additionalProperties: false, description: 'One admin action: { at, republish: PACKAGE }, { at, liftBans: true } or { at, campaign: { endpoints, package } }.' },
          ),
          { default: [], description: 'Admin actions on the server during the run (needs its admin API).' },
        ),
      ),
    },
    { additionalProperties: false, default: {}, description: 'The embedded reference server (ignored when target.url is set).' },
  );

  const radioRules = [
    { mode: 'psm', fields: ['t3412', 't3324'] },
    { mode: 'drx', fields: ['cycle'] },
    { mode: 'edrx', fields: ['cycle', 'ptw'] },
    { mode: 'always-on', fields: [] },
  ].map(({ mode, fields }) => ({
    if: { properties: { mode: { const: mode } }, required: ['mode'] },
    then: { properties: Object.fromEntries(['mode', ...fields].map((k) => [k, {}])), additionalProperties: false },
  }));
  const Radio = Type.Object(
    {
      mode: Enum(RADIO_MODES, { description: 'Power-saving mode the network gives the devices.' }),
      t3412: Type.Optional(distribution(U.Duration('PSM periodic update timer T3412.'), `PSM: T3412, a duration or a distribution of ms (default ${DEFAULTS.psmT3412}).`)),
      t3324: Type.Optional(distribution(U.Duration('PSM active timer T3324.'), `PSM: T3324, a duration or a distribution of ms (default ${DEFAULTS.psmT3324}).`)),
      cycle: Type.Optional(U.Duration(`drx: 1.28s, 2.56s, 5.12s or 10.24s (default ${DEFAULTS.drxCycle}); edrx: 20.48s × 2^k up to 10485.76s (default ${DEFAULTS.edrxCycle}).`)),
      ptw: Type.Optional(U.Duration(`eDRX paging time window: 2.56s × 1…16, shorter than the cycle (default ${DEFAULTS.edrxPtw}).`)),
    },
    { additionalProperties: false, allOf: radioRules, default: { mode: 'always-on' }, description: 'always-on | psm {t3412, t3324} | drx {cycle} | edrx {cycle, ptw}' },
  );

  const Settings = Type.Object(
    {
      chunkSize: Type.Optional(U.Size('Bytes per ranged download request.', { default: DEFAULTS.settings.chunkSize })),
      progressEvery: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: DEFAULTS.settings.progressEvery, description: 'Report download progress every this many percent (0 = never).' })),
      requestTimeout: Type.Optional(U.Duration('How long to wait for an answer (real time).', { default: DEFAULTS.settings.requestTimeout })),
      reboot: Type.Optional(U.Duration('Virtual time a reboot takes.', { default: DEFAULTS.settings.reboot })),
      maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULTS.settings.maxAttempts, description: 'Attempts when the server gives no `retry`.' })),
      retryDelay: Type.Optional(U.Duration('Virtual time between attempts when the server gives no `interval`.', { default: DEFAULTS.settings.retryDelay })),
      maxStalledAttempts: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULTS.settings.maxStalledAttempts, description: 'OneNET: download answers in a row without new bytes held after which the device gives up (final state `no-progress`).' }),
      ),
      waitBackoff: Type.Optional(U.Duration('Luat: virtual time to wait after a 43 (please wait) before asking again.', { default: DEFAULTS.settings.waitBackoff })),
      retransmit: Type.Optional(
        Type.Object(
          {
            ackTimeout: Type.Optional(U.Duration('ACK_TIMEOUT: first wait for an answer, virtual.', { default: DEFAULTS.settings.ackTimeout })),
            randomFactor: Type.Optional(Type.Number({ minimum: 1, maximum: 10, default: DEFAULTS.settings.randomFactor, description: 'ACK_RANDOM_FACTOR: the first wait is uniform in [ackTimeout, ackTimeout × factor].' })),
            maxRetransmit: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, default: DEFAULTS.settings.maxRetransmit, description: 'MAX_RETRANSMIT: retransmissions of an unanswered request (0: none).' })),
          },
          { additionalProperties: false, default: {}, description: 'CoAP-style retransmission of an unanswered request (RFC 7252 §4.2): the wait doubles each time.' },
        ),
      ),
      lwm2m: Type.Optional(
        Type.Object(
          {
            confirmableNotify: Type.Optional(Type.Boolean({ default: false, description: 'Send Observe notifications as CON (acknowledged by the server, retransmitted on settings.retransmit until it does) instead of NON.' })),
          },
          { additionalProperties: false, description: 'LwM2M device settings of the cohort (dialect lwm2m only).' },
        ),
      ),
    },
    { additionalProperties: false, default: {}, description: 'Device settings of the cohort.' },
  );

  // Which devices of a cohort carry a behaviour: `share` of it, or exactly `count` of them.
  const who = {
    share: Type.Optional(U.Share('Share of the cohort that carries it (default: all, when no count is given).')),
    count: Type.Optional(Type.Integer({ minimum: 0, description: 'Exactly this many devices of the cohort carry it (instead of a share).' })),
  };
  const Pick = (description: string) =>
    Type.Union([U.Share(''), Type.Object(who, { additionalProperties: false })], { description: `${description} A share (10%), or { share } or { count }.` });
  const CutAt = Type.Union(
    [
      opts.unitPatterns ? Type.Literal('random') : Type.String(),
      U.Share(''),
      U.Size(''),
    ],
    { description: 'Where the link drops: a share of the file (40%), a byte offset (70000, 64KiB), or random.' },
  );
  const Behaviours = Type.Object(
    {
      corruptDownload: Type.Optional(Pick('Devices whose downloaded image fails its md5 check.')),
      rebootIntoOld: Type.Optional(Pick('Devices that boot back into the old version after flashing.')),
      answerLoss: Type.Optional(
        Type.Object(
          {
            ...who,
            rate: Type.Optional(U.Share('Chance that a transmission loses its answer (the server processed it).', { default: '100%' })),
            ops: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Operations whose answers may be lost (default: every operation of the dialect).' })),
            requeue: Type.Optional(Type.Boolean({ default: false, description: 'OneNET: a progress report never acknowledged is sent once more after the upgrade (store-and-forward).' })),
          },
          { additionalProperties: false, description: 'Answers lost on the radio link; the device retransmits (settings.retransmit).' },
        ),
      ),
      disconnect: Type.Optional(
        Type.Object(
          {
            ...who,
            at: Type.Optional(CutAt),
            times: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Cuts per download: cut k falls at k × at (or at random in what is left).' })),
            reconnect: Type.Optional(U.Duration('Virtual time without a link after a cut (then the radio mode decides when the device talks).', { default: '30s' })),
          },
          { additionalProperties: false, description: 'OneNET: the link drops in the middle of a download; the device reconnects and resumes with Range.' },
        ),
      ),
      batteryDies: Type.Optional(
        Type.Object({ ...who, at: Type.Optional(U.Share('Share of the package held when the battery runs out.', { default: '50%' })) }, { additionalProperties: false, description: 'OneNET: the battery runs out mid-download (reports 105).' }),
      ),
      storageFull: Type.Optional(Pick('OneNET: devices with no room for the package (report 102).')),
      flashFails: Type.Optional(
        Type.Object(
          { ...who, code: Type.Optional(Enum([202, 203] as const, { default: 202, description: '202 low battery or 203 out of memory.' })) },
          { additionalProperties: false, description: 'OneNET: flashing the verified image fails (reports 202 or 203).' },
        ),
      ),
      longSleep: Type.Optional(
        Type.Object(
          {
            ...who,
            sleep: Type.Optional(U.Duration('Virtual time slept in the middle of the download (the task token lives 2 days).', { default: '3d' })),
            staleAuth: Type.Optional(Type.Boolean({ default: false, description: 'Keep sending the Authorization signed before the sleep until it is refused.' })),
          },
          { additionalProperties: false, description: 'OneNET: a device sleeps past its token\'s validity and must check again.' },
        ),
      ),
      askAfterBan: Type.Optional(
        Type.Object(
          { ...who, asks: Type.Optional(Type.Integer({ minimum: 1, maximum: 40, default: 3, description: 'More asks after the first 40, retryDelay apart.' })) },
          { additionalProperties: false, description: 'Luat: devices that keep asking after a loop ban (40).' },
        ),
      ),
      dropAcks: Type.Optional(
        Type.Object(
          { ...who, rate: Type.Optional(U.Share('Share of the server\'s confirmable requests left unacknowledged, drawn per request.', { default: '100%' })) },
          { additionalProperties: false, description: 'LwM2M: devices that drop their ACKs at a rate (the server must retransmit on its schedule).' },
        ),
      ),
      natRebind: Type.Optional(Pick('LwM2M: devices whose NAT forgets them in PSM (each wake\'s Update from a new source port).')),
    },
    { additionalProperties: false, default: {}, description: 'Field faults, each carried by an exact share (or count) of the cohort. See docs/faults.md.' },
  );

  const Cohort = Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Name in reports (default cohort-N, N its position from 0).' })),
      count: Type.Optional(Type.Integer({ minimum: 1, description: 'Devices in this cohort. Give count or share; one cohort may give neither and take the rest.' })),
      share: Type.Optional(U.Share('Share of fleet.devices in this cohort.')),
      ids: Type.String({
        minLength: 1,
        description: 'Device ids, assigned in order: FIRST..LAST (522700000..522799999), PREFIX{FIRST..LAST} (86671404{0000000..0099999}) or one id.',
      }),
      version: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,20}$', description: 'Version the devices run at the start: [A-Za-z0-9_.-], 1–20 characters.' }),
      manuf: Type.Optional(Type.String({ minLength: 1, maxLength: 16, default: DEFAULTS.manuf, description: 'OneNET manufacturer code (101 ESP32, 102 nRF52832, 103 GD32, 100 other).' })),
      model: Type.Optional(Type.String({ minLength: 1, maxLength: 16, default: DEFAULTS.model, description: 'OneNET model code (10101 ESP32, ...).' })),
      core: Type.Optional(Type.String({ maxLength: 32, default: DEFAULTS.core, description: 'Luat core (firmware) version; "" for a device without one (core_version is then not sent).' })),
      taskType: Type.Optional(Enum([1, 2] as const, { default: DEFAULTS.taskType, description: 'OneNET check type: 1 FOTA (module), 2 SOTA (application).' })),
      battery: Type.Optional(distribution(Type.Number(), 'Battery percent (0–100): a number or a distribution; draws are rounded and clamped.', { default: DEFAULTS.battery })),
      signal: Type.Optional(
        Type.Union([opts.unitPatterns ? Type.Literal('none') : Type.String(), distribution(Type.Number(), 'rssi 0–31')], {
          default: DEFAULTS.signal,
          description: 'Signal as AT+CSQ rssi (0–31): a number or a distribution, rounded and clamped; `none` (99) for no signal.',
        }),
      ),
      radio: Type.Optional(Radio),
      rrcSetup: Type.Optional(
        distribution(U.Duration('RRC connection set-up.'), 'Virtual time to set up the RRC connection after 10 s idle (NB-IoT: about 1–2 s); absent: free.'),
      ),
      link: Type.Optional(
        Type.Object(
          {
            bitrate: distribution(Type.Number({ exclusiveMinimum: 0 }), 'Link rate in bits per second at full signal (NB-IoT: tens of kbit/s); a number or a distribution.'),
            rtt: Type.Optional(distribution(U.Duration('Round-trip time.'), 'Round-trip time per request, virtual (default 0).')),
          },
          { additionalProperties: false, description: 'The radio link: downloads are paced to its rate (lowered by poor signal), holding their connection as long as in the field.' },
        ),
      ),
      behaviours: Type.Optional(Behaviours),
      settings: Type.Optional(Settings),
      recheck: Type.Optional(
        Type.Object(
          {
            times: Type.Integer({ minimum: 1, maximum: 100, description: 'Checks after a successful upgrade.' }),
            every: U.Duration('Virtual time between those checks (the first one this long after success).'),
          },
          {
            additionalProperties: false,
            description:
              'Check again after a successful upgrade (OneNET 201 accepted, Luat confirmed), so a server that still offers the task, or offers the version the device runs, is caught (rule stale-task).',
          },
        ),
      ),
    },
    { additionalProperties: false },
  );

  const arrivalRules = [
    { pattern: 'all-at-once', required: [] as string[], optional: [] as string[] },
    { pattern: 'ramp', required: ['over'], optional: [] },
    { pattern: 'constant-rate', required: ['rate'], optional: [] },
    { pattern: 'spread', required: ['over'], optional: [] },
    { pattern: 'beta', required: ['alpha', 'beta', 'over'], optional: [] },
    { pattern: 'synchronised', required: [], optional: ['over'] },
  ].map(({ pattern, required, optional }) => ({
    if: { properties: { pattern: { const: pattern } }, required: ['pattern'] },
    then: { required, properties: Object.fromEntries(['pattern', ...required, ...optional].map((k) => [k, {}])), additionalProperties: false },
  }));
  const Arrival = Type.Object(
    {
      pattern: Enum(ARRIVAL_PATTERNS, { description: 'How devices first wake, in virtual time from the start.' }),
      over: Type.Optional(
        U.Duration('ramp: rate grows linearly over this window; spread: uniformly within it; beta: over × Beta(alpha, beta); synchronised: the activation time (default 10s).'),
      ),
      rate: Type.Optional(U.Rate('constant-rate: devices per unit of virtual time.')),
      alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'beta: the first shape parameter (3 in 3GPP TR 37.868 traffic model 2).' })),
      beta: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'beta: the second shape parameter (4 in 3GPP TR 37.868 traffic model 2).' })),
    },
    {
      additionalProperties: false,
      allOf: arrivalRules,
      default: { pattern: 'all-at-once' },
      description: 'all-at-once | ramp {over} | constant-rate {rate} | spread {over} | beta {alpha, beta, over} | synchronised {over?} (3GPP TR 37.868 model 2: Beta(3,4) over 10s)',
    },
  );

  const wakeRules = [
    { pattern: 'steady', required: [] as string[], optional: [] as string[] },
    { pattern: 'outage-recovery', required: ['window'], optional: [] },
    { pattern: 'synchronised', required: [], optional: ['window'] },
    { pattern: 'daily-alignment', required: ['spread'], optional: ['at'] },
    { pattern: 'rollout-start', required: [], optional: [] },
  ].map(({ pattern, required, optional }) => ({
    if: { properties: { pattern: { const: pattern } }, required: ['pattern'] },
    then: { required, properties: Object.fromEntries(['pattern', ...required, ...optional].map((k) => [k, {}])), additionalProperties: false },
  }));
  const Wake = Type.Object(
    {
      pattern: Enum(WAKE_PATTERNS, { description: 'Named wake pattern: it places first wakes (and PSM phases) instead of arrival.' }),
      window: Type.Optional(
        U.Duration('outage-recovery: every device reconnects within this window, uniformly; synchronised: within it following Beta(3,4) (default 10s, 3GPP TR 37.868 model 2).'),
      ),
      spread: Type.Optional(U.Duration('daily-alignment: TAU phases bunched within this spread.')),
      at: Type.Optional(U.Duration('daily-alignment: time of day (UTC) the bunch starts; default the run start\'s.')),
    },
    {
      additionalProperties: false,
      allOf: wakeRules,
      description: 'steady (each device on its own T3412 phase) | outage-recovery {window} | synchronised {window?} | daily-alignment {spread, at?} | rollout-start',
    },
  );

  return Type.Object(
    {
      $schema: Type.Optional(Type.String({ description: 'Schema of this file, for editors.' })),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Name in reports (default: the file name).' })),
      description: Type.Optional(Type.String({ default: '', description: 'What the scenario is about.' })),
      dialect: Type.String({ minLength: 1, examples: [...DIALECT_EXAMPLES], description: 'Protocol the devices speak: onenet or luat (plugins may add more).' }),
      dialectFile: Type.Optional(
        Type.String({ minLength: 1, description: 'A declared dialect (docs/dialects.md), relative to this file: an HTTP server described in YAML; `dialect` names it.' }),
      ),
      seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff, default: DEFAULTS.seed, description: 'Seed of every random draw (--seed overrides).' })),
      timeScale: Type.Optional(
        Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }), Type.Literal('max')], {
          default: DEFAULTS.timeScale,
          description: 'Virtual ms per real ms, or "max": virtual time runs as fast as the logic allows, with the embedded server only (--time-scale overrides).',
        }),
      ),
      target: Type.Optional(Target),
      server: Type.Optional(Server),
      application: Type.Optional(ApplicationSchema(U, secretSchema)),
      fleet: Type.Object(
        {
          devices: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Fleet size (--devices overrides; counts then scale with it). Default: the sum of the cohorts\' counts.' }),
          ),
          cohorts: Type.Array(Cohort, { minItems: 1, description: 'Groups of alike devices, in order: cohort 0 takes the first devices.' }),
        },
        { additionalProperties: false, description: 'The devices.' },
      ),
      arrival: Type.Optional(Arrival),
      wake: Type.Optional(Wake),
      stop: Type.Optional(
        Type.Object(
          {
            after: Type.Optional(U.Duration('Real time after which the run stops, whatever the devices are doing (--duration overrides).', { default: DEFAULTS.stopAfter })),
            virtual: Type.Optional(U.Duration('Virtual time after which the run stops (soak-style runs).')),
          },
          { additionalProperties: false, default: {}, description: 'When the run stops (it also stops once every device is done).' },
        ),
      ),
      engine: Type.Optional(
        Type.Object(
          {
            maxInFlightPerWorker: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: DEFAULTS.maxInFlightPerWorker, description: 'In-flight requests per worker.' })),
            connectionsPerWorker: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: DEFAULTS.connectionsPerWorker, description: 'Keep-alive connections per worker.' })),
            lookahead: Type.Optional(
              U.Duration(
                'Under --time-scale max only: how far (virtual) a worker may run ahead of the slowest. Longer runs faster; devices on different workers may then reach the server out of order by up to this much.',
              ),
            ),
          },
          { additionalProperties: false, default: {}, description: 'Harness knobs.' },
        ),
      ),
      expect: Type.Optional(
        Type.Array(Type.String({ minLength: 1, examples: ['check.p99 < 500ms', 'devices.succeeded >= 99%', 'transitions.violations == 0'] }), {
          default: [],
          description: 'Thresholds: METRIC OP VALUE[UNIT], OP one of < <= > >= == !=, UNIT ms, s or %. See scenarios/README.md.',
        }),
      ),
    },
    { additionalProperties: false, title: 'ota-swarm scenario', description: 'A fleet of virtual OTA devices, how they arrive, and what the run must show.' },
  );
}

/** The schema the loader validates with (unit text checked by the loader, in words). */
export const ScenarioFileSchema = buildScenarioSchema({ unitPatterns: false });
/** The schema published for editors (unit text checked by patterns). */
export const PublishedScenarioSchema = buildScenarioSchema({ unitPatterns: true, dialectBlocks: true });

export type ScenarioFile = Static<typeof ScenarioFileSchema>;
export type CohortFile = ScenarioFile['fleet']['cohorts'][number];

/** The published JSON Schema (draft-07, which editors' YAML plugins read) as a plain object. */
export function scenarioJsonSchema(): Record<string, unknown> {
  // Through JSON: drops TypeBox's symbol keys, leaving exactly what the file holds.
  const plain = JSON.parse(JSON.stringify(PublishedScenarioSchema)) as Record<string, unknown>;
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...plain };
}

/** The text of schema/scenario.schema.json. */
export function renderScenarioSchema(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
