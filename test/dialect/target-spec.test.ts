/**
 * The transport-neutral dialect contract: a dialect owns its `target.<name>` block (its schema
 * checked with file:line errors, its `resolve` run at load), makes its settings from the scenario
 * and the environment, and declares its transport; a dialect without a spec gets empty settings.
 */
import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { parseScenario, registerScenarioDialect } from '../../src/scenario/load.js';
import { settingsFromCatalog, settingsFromScenario } from '../../src/engine/target.js';
import { makeTransport } from '../../src/engine/transports.js';
import { pluginProblem } from '../../src/dialect/plugins.js';
import { resolveSecret } from '../../src/config/secret.js';
import { onenetPlugin, luatPlugin } from '../../src/dialect/registry.js';
import { NO_TARGET_SETTINGS, type DialectPlugin, type DialectTargetSpec } from '../../src/dialect/types.js';
import { errorOf } from '../scenario/config-error.js';

interface GadgetSettings {
  readonly tenant: string;
  readonly token: string;
}

const gadgetTarget: DialectTargetSpec<GadgetSettings> = {
  schema: Type.Object({ tenant: Type.String({ minLength: 1 }), token: Type.Optional(Type.Object({ env: Type.String() })), region: Type.Optional(Type.String({ default: 'eu' })) }, { additionalProperties: false }),
  resolve(block, { fail }) {
    if (block === undefined) return fail('tenant', 'required by dialect "gadget"');
    const b = block as { tenant: string; region: string };
    if (b.tenant === 'DEFAULT') fail('tenant', 'name your own tenant');
    return { ...b, resolved: true };
  },
  fromScenario(block, ctx) {
    const b = block as { tenant: string; token?: { env: string } };
    return { tenant: b.tenant, token: resolveSecret(b.token ?? { env: 'GADGET_TOKEN' }, `${ctx.file}: target.gadget.token`, ctx.env) };
  },
};

registerScenarioDialect('gadget', ['poll'], ['polling', 'done'], gadgetTarget as DialectTargetSpec<never>);
registerScenarioDialect('bare', ['poll']);

const scenario = (target: string, dialect = 'gadget'): string => `dialect: ${dialect}\ntarget:\n${target}fleet:\n  cohorts:\n    - { ids: "1..2", count: 2, version: V1 }\n`;
const gadget = { name: 'gadget', target: gadgetTarget } as unknown as DialectPlugin;

describe("a dialect's target block", () => {
  it('is checked by its own schema, defaults filled, then resolved; the scenario keeps what resolve returns', () => {
    const s = parseScenario(scenario('  gadget: { tenant: acme }\n'), 'g.yaml');
    expect(s.target.block).toEqual({ tenant: 'acme', region: 'eu', resolved: true });
  });

  it('fails at its file:line with the path under target.<dialect>', () => {
    expect(errorOf(() => parseScenario(scenario('  gadget:\n    tenant: acme\n    colour: red\n'), 'g.yaml'))).toBe('g.yaml:5:13: target.gadget.colour: unknown field');
    expect(errorOf(() => parseScenario(scenario('  gadget: { tenant: 7 }\n'), 'g.yaml'))).toBe('g.yaml:3:21: target.gadget.tenant: must be string');
    expect(errorOf(() => parseScenario(scenario('  gadget: { tenant: DEFAULT }\n'), 'g.yaml'))).toBe('g.yaml:3:21: target.gadget.tenant: name your own tenant');
    expect(errorOf(() => parseScenario(scenario('  url: http://127.0.0.1:1\n'), 'g.yaml'))).toBe('g.yaml:3:3: target.gadget.tenant: required by dialect "gadget"');
  });

  it('a block named after no dialect is a typo; another known dialect\'s block is checked by that dialect', () => {
    expect(errorOf(() => parseScenario(scenario('  gadgte: { tenant: acme }\n'), 'g.yaml'))).toMatch(/^g\.yaml:3:11: target\.gadgte: unknown field \(neither a target setting nor a known dialect: .*gadget/);
    expect(errorOf(() => parseScenario(scenario('  gadget: { tenant: acme }\n  luat: { firmwareName: 3 }\n'), 'g.yaml'))).toBe('g.yaml:4:25: target.luat.firmwareName: must be string');
  });

  it('a dialect with no spec takes any block as it is, and gets empty settings', () => {
    const s = parseScenario(scenario('  bare: { anything: [1, 2] }\n', 'bare'), 'b.yaml');
    expect(s.target.block).toEqual({ anything: [1, 2] });
    const bare = { name: 'bare' } as unknown as DialectPlugin;
    expect(settingsFromScenario(s, bare, {})).toBe(NO_TARGET_SETTINGS);
    expect(settingsFromCatalog(s, bare, {}, {})).toEqual({});
  });

  it('makes the settings for --target, the secret from the environment, a missing one a one-line error naming the field', () => {
    const s = parseScenario(scenario('  gadget: { tenant: acme }\n'), 'g.yaml');
    expect(settingsFromScenario(s, gadget, { GADGET_TOKEN: ' t0k ' })).toEqual({ tenant: 'acme', token: 't0k' });
    expect(errorOf(() => settingsFromScenario(s, gadget, {}))).toBe('g.yaml: target.gadget.token: environment variable GADGET_TOKEN is not set');
    // No fromCatalog: the embedded server's keys are the scenario's.
    expect(settingsFromCatalog(s, gadget, { onenet: {} }, { GADGET_TOKEN: 'x' })).toEqual({ tenant: 'acme', token: 'x' });
  });

  it('the built-in dialects keep their blocks in their folders (OneNET: --product-id applied by its resolve)', () => {
    const s = parseScenario(scenario('  onenet: { productId: "198290", tokenTtl: 2h }\n', 'onenet'), 'o.yaml', { productId: 'p9' });
    expect(s.target.block).toEqual({ productId: 'p9', productIdFrom: '--product-id', signMethod: 'sha1', tokenTtlSec: 7200 });
    expect(settingsFromScenario(s, onenetPlugin as unknown as DialectPlugin, { OTA_SWARM_ONENET_ACCESS_KEY: 'k' })).toEqual({ productId: 'p9', accessKey: 'k', signMethod: 'sha1', tokenTtlSec: 7200 });
    expect(onenetPlugin.transport).toBe('http');
    expect(luatPlugin.transport).toBe('http');
  });
});

describe('transport', () => {
  it('http by default; one the build cannot make is a one-line error', async () => {
    const t = makeTransport(undefined, { baseUrl: 'http://127.0.0.1:1', connections: 1, maxBodyBytes: 1024 });
    expect(t.kind).toBe('http');
    await t.close();
    expect(errorOf(() => makeTransport('coap', { baseUrl: 'coap://127.0.0.1:1', connections: 1, maxBodyBytes: 1024 }))).toMatch(/^transport "coap": not available in this build/);
  });

  it('a plugin module declares it and its target spec, checked when loaded', () => {
    const base = {
      name: 'gadget',
      operations: ['poll'],
      machine: { start() {}, onTimer() {}, onAnswer() {} },
      wire: { encode() {}, decode() {}, operationOf() {}, outcomeOf() {}, isError() {} },
      rules: { kinds: [], next: {}, initial: [], final: [] },
    };
    expect(pluginProblem(base)).toBeUndefined();
    expect(pluginProblem({ ...base, transport: 'coap', target: gadgetTarget })).toBeUndefined();
    expect(pluginProblem({ ...base, transport: 'mqtt' })).toBe('transport must be "http" or "coap" (absent: http)');
    expect(pluginProblem({ ...base, target: { schema: {} } })).toBe('target needs fromScenario');
    expect(pluginProblem({ ...base, target: { fromScenario() {}, resolve: 3 } })).toBe('target.resolve must be a function');
  });
});
