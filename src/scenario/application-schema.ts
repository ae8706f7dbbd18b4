/**
 * The scenario's `application` section (the application side of a rollout: north-bound steps and
 * the push receiver, docs/application-side.md) and `target.profile.push`, as schema parts that
 * ./schema.ts places in the file's schema.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { UnitKinds } from './schema.js';

export const NORTHBOUND_WAITS = ['none-upgradable', 'some-upgradable'] as const;

export function PushPolicySchema(U: UnitKinds) {
  return Type.Object(
    {
      answerWithin: Type.Optional(U.Duration('A push succeeds with a 200 within this (documented: 15s).')),
      cacheFor: Type.Optional(U.Duration('A failed push is cached and retried this long (documented: 10m).')),
      maxFailures: Type.Optional(Type.Integer({ minimum: 0, description: 'Failed retries before the push is given up and the URL marked invalid (documented: 10).' })),
      retryEvery: Type.Optional(U.Duration('Between a failed attempt and the retry (not documented; 10 retries in 10 minutes: 1m).')),
    },
    { additionalProperties: false, description: 'How the platform retries pushes to the application side (spec §3.3).' },
  );
}

export function ApplicationSchema(U: UnitKinds, Secret: (description: string) => TSchema) {
  const Step = Type.Object(
    {
      query: Type.Optional(Type.String({ minLength: 1, description: 'Query upgradable firmware: "all", or one device id.' })),
      upgrade: Type.Optional(Type.String({ minLength: 1, description: 'Start the upgrade: "all", or one device id.' })),
      wait: Type.Optional(
        Type.Object(
          {
            until: Type.Unsafe<string>({ type: 'string', enum: [...NORTHBOUND_WAITS], description: 'Poll the query-all call until no device / some device is upgradable.' }),
            every: Type.Optional(U.Duration('Between polls (real time; default 1s).')),
            timeout: Type.Optional(U.Duration('Give up (the run fails) after this long (real time; default 30s).')),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false, description: 'One north-bound step: { query: all | DID } | { upgrade: all | DID } | { wait: { until, every?, timeout? } }.' },
  );
  const Window = Type.Object(
    { from: U.Duration('Start, virtual time from the run\'s start.'), to: U.Duration('End, virtual time from the run\'s start.') },
    { additionalProperties: false },
  );
  return Type.Object(
    {
      platform: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: ['aiot'], default: 'aiot', description: 'The north-bound API and push format: aiot (spec §4).' })),
      appId: Type.String({ minLength: 1, maxLength: 128, description: 'The application\'s Appid (sent with every call; pushes must carry it).' }),
      appKey: Type.Optional(Secret('The application\'s Appkey. Omit with the embedded server: a random one is shared with it.')),
      accessToken: Type.Optional(Secret('The Access-Token of the north-bound calls. Omit with the embedded server: a random one is shared with it.')),
      openId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, default: 'ota-swarm', description: 'The Openid header and openId field.' })),
      northbound: Type.Optional(Type.Array(Step, { default: [], description: 'Calls made before the fleet starts, in order (the run\'s first phase).' })),
      receiver: Type.Optional(
        Type.Object(
          {
            host: Type.Optional(Type.String({ minLength: 1, default: '127.0.0.1', description: 'Where the receiver listens (loopback by default).' })),
            port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'Port; 0 picks a free one.' })),
            answerAfter: Type.Optional(U.Duration('Answer each push after this long (virtual time).')),
            errorRate: Type.Optional(U.Share('Share of pushes answered errorStatus.')),
            errorStatus: Type.Optional(Type.Integer({ minimum: 400, maximum: 599, default: 503, description: 'Status of those answers.' })),
            neverAnswer: Type.Optional(Type.Boolean({ description: 'Never answer a push.' })),
            down: Type.Optional(Type.Array(Window, { description: 'Windows in which every push has its connection reset.' })),
          },
          { additionalProperties: false, default: {}, description: 'The push receiver: the backend the platform pushes to.' },
        ),
      ),
      settle: Type.Optional(U.Duration('After the fleet, how long (virtual) pushes may still arrive (default: push.cacheFor + push.retryEvery).')),
    },
    { additionalProperties: false, description: 'The application side: north-bound calls that start the rollout and the receiver of its pushes (docs/application-side.md).' },
  );
}
