/**
 * The file format of a declared dialect (docs/dialects.md): an HTTP OTA server described as its
 * calls, how each answer maps onto the device's abstract events, the download, the reports and the
 * authentication. Checked with file:line errors (config/load.ts); templates are checked by ./load.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { durationSchema } from '../../config/fields.js';

export const EVENTS = ['ok', 'none', 'offer', 'wait', 'refused', 'error'] as const;
export type DeclaredEvent = (typeof EVENTS)[number];
export const HASHES = ['md5', 'sha1', 'sha256'] as const;
export type HashAlgorithm = (typeof HASHES)[number];

const Str = (description: string) => Type.String({ description });
const TemplateText = (description: string) => Type.String({ description: `${description} A template: {{device.id}}, {{settings.key | url}}, ...` });
const Headers = Type.Record(Type.String({ minLength: 1 }), TemplateText('Header value.'), { description: 'Headers, name: template.' });
const Enum = <T extends string>(values: readonly T[], description: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], description });

const When = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Integer(), Type.Array(Type.Integer(), { minItems: 1 })], { description: 'HTTP status (or any of a list).' })),
    json: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), { description: 'JSON body fields (dotted paths) and the value each must have.' })),
    has: Type.Optional(Type.Array(Type.String(), { description: 'JSON body fields (dotted paths) that must be present.' })),
    header: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Answer headers (lower-case names) and their values.' })),
    transport: Type.Optional(Type.Boolean({ description: 'true: no answer came (a reset, a timeout, a refused connection).' })),
  },
  { additionalProperties: false, description: 'All of these must hold; absent: always.' },
);

const Offer = Type.Object(
  {
    version: TemplateText('The offered version.'),
    size: TemplateText('Its size in bytes.'),
    hash: TemplateText('Its digest (hex), in the download\'s hash algorithm.'),
    url: Type.Optional(TemplateText('Where it is downloaded (absolute path or URL); absent: the download\'s url.')),
  },
  { additionalProperties: TemplateText('Any other field the later calls use as {{offer.NAME}}.'), description: 'An update offered.' },
);

const Answer = Type.Object(
  {
    when: Type.Optional(When),
    event: Enum(EVENTS, 'What the answer means for the device.'),
    outcome: Type.Optional(TemplateText('Label in the outcome counts; default: the call\'s, else http:STATUS / net:CODE.')),
    offer: Type.Optional(Offer),
    wait: Type.Optional(TemplateText('wait: seconds before asking again.')),
    reason: Type.Optional(TemplateText('refused: why, in the report.')),
    authFailed: Type.Optional(Type.Boolean({ description: 'The answer refuses the credentials: a probe that gets it stops the run in one line (needs a fixed outcome).' })),
  },
  { additionalProperties: false },
);

const Call = Type.Object(
  {
    operation: Type.Optional(Type.String({ minLength: 1, description: 'Histogram it counts in; default: the call\'s name.' })),
    method: Enum(['GET', 'POST', 'PUT'] as const, 'HTTP method.'),
    url: TemplateText('Path and query.'),
    headers: Type.Optional(Headers),
    body: Type.Optional(TemplateText('Body.')),
    auth: Type.Optional(Type.Boolean({ description: 'Carries the authentication (default true).' })),
    outcome: Type.Optional(TemplateText('Label of its answers in the counts (default http:STATUS).')),
    answers: Type.Optional(Type.Array(Answer, { description: 'First match wins; none matching: 2xx is ok, anything else error.' })),
  },
  { additionalProperties: false },
);

const Setting = Type.Object(
  {
    default: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    secret: Type.Optional(Type.Boolean({ description: 'A secret: { env: NAME } / { file: path } in the scenario, or the env variable below.' })),
    env: Type.Optional(Type.String({ minLength: 1, description: 'Environment variable read when the scenario gives none.' })),
    catalog: Type.Optional(Type.String({ minLength: 1, description: 'Where a reference server\'s admin catalog has it: a dotted path, [field={{settings.x}}] picks a list entry.' })),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const DeclaredDialectSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', description: 'The dialect: a scenario names it.' }),
    description: Type.Optional(Str('What server this describes.')),
    settings: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$' }), Setting, { description: 'Fields of the scenario\'s target.<name> block, as {{settings.NAME}}.' })),
    auth: Type.Optional(
      Type.Object(
        {
          header: Type.Optional(Type.Object({ name: Type.String({ minLength: 1 }), value: TemplateText('Its value.') }, { additionalProperties: false, description: 'A fixed header (an API key from a setting).' })),
          hmac: Type.Optional(
            Type.Object(
              {
                header: Type.String({ minLength: 1, description: 'Header it goes in.' }),
                algorithm: Enum(HASHES, 'HMAC hash.'),
                key: TemplateText('The key (a secret setting).'),
                keyEncoding: Type.Optional(Enum(['utf8', 'base64', 'hex'] as const, 'How the key text is read (default utf8).')),
                over: TemplateText('The text signed: device fields, {{auth.expires}}, {{now}}.'),
                encoding: Type.Optional(Enum(['hex', 'base64'] as const, 'How the signature is written (default hex).')),
                value: Type.Optional(TemplateText('The header value, with {{auth.signature}} (default: the signature).')),
                expiresIn: Type.Optional(durationSchema('{{auth.expires}} is now plus this, unix seconds.')),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    calls: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }), Call, { description: 'The server\'s calls by name.' }),
    flow: Type.Object(
      {
        start: Type.Optional(Type.Array(Type.String(), { description: 'Calls made once before the first check.' })),
        check: Type.String({ description: 'The call whose answer says none / offer / wait / refused.' }),
        accept: Type.Optional(Type.Array(Type.String(), { description: 'Calls after an offer, before the download.' })),
        download: Type.Object(
          {
            url: Type.Optional(TemplateText('Path of the image; default {{offer.url}}.')),
            operation: Type.Optional(Type.String({ minLength: 1, description: 'Histogram (default download).' })),
            range: Type.Optional(Type.Boolean({ description: 'Ranged chunks of the cohort\'s chunkSize, resumed from the bytes held (default true); false: one GET.' })),
            hash: Enum(HASHES, 'Algorithm of the offer\'s hash.'),
            headers: Type.Optional(Headers),
            auth: Type.Optional(Type.Boolean({ description: 'Carries the authentication (default false).' })),
            outcome: Type.Optional(Type.String({ description: 'Label of a chunk received (default bytes).' })),
          },
          { additionalProperties: false },
        ),
        progress: Type.Optional(Type.String({ description: 'Call made every progressEvery percent, with {{progress.step}}.' })),
        downloaded: Type.Optional(Type.Array(Type.String(), { description: 'Calls once the image is verified, before the reboot.' })),
        installed: Type.Optional(Type.Array(Type.String(), { description: 'Calls after the reboot ({{device.version}} is then the new one).' })),
        failure: Type.Optional(Type.String({ description: 'Call reporting a failure, with {{failure.reason}} (hash, download, refused, gave-up) and {{failure.code}}.' })),
        failureCodes: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: '{{failure.code}} of each reason.' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'ota-swarm declared dialect' },
);

export type DeclaredDialectFile = Static<typeof DeclaredDialectSchema>;
export type CallFile = DeclaredDialectFile['calls'][string];
export type AnswerFile = NonNullable<CallFile['answers']>[number];

/** The text of schema/dialect.schema.json (draft-07, for editors), from the schema the loader checks with. */
export function renderDialectSchema(): string {
  const plain = JSON.parse(JSON.stringify(DeclaredDialectSchema)) as Record<string, unknown>;
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...plain }, null, 2)}\n`;
}
