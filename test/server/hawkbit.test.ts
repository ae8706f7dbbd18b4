/**
 * The reference server's hawkBit DDI (protocol/hawkbit.ts): every resource, every feedback value,
 * every status code it documents, rollout thresholds, the DoS filter and the quota, cancel, and
 * the named bugs. The server runs at `--time-scale max`, so its clock moves only with the
 * x-ota-swarm-virtual-ms header a test sends: the per-second limits and the maintenance window are
 * exact, whatever the machine's load.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from '../../src/catalog/default.js';
import { generatePackageBytes } from '../../src/catalog/package-bytes.js';
import type { Catalog } from '../../src/catalog/schema.js';
import { deriveTargetToken, EXECUTIONS, parseSleep } from '../../src/protocol/hawkbit.js';
import { send, start, type Reply, type TestServer } from './helpers.js';
import type { BugName } from '../../src/server/bugs.js';

const KEY = 'acme-token-key';
const GATEWAY = 'acme-gateway-token';
const SIZE = 5000;
const SEED = 77;
const T0 = 1_000_000_000_000;

function ddiCatalog(): Catalog {
  const c = structuredClone(DEFAULT_CATALOG);
  c.hawkbit = {
    maxReadPerSecond: 5,
    maxWritePerSecond: 3,
    maxStatusEntriesPerAction: 6,
    tenants: [
      {
        name: 'acme',
        targetTokenKey: KEY,
        gatewayToken: GATEWAY,
        pollingSleep: '00:00:30',
        targets: [{ ids: 'd{000..099}' }],
        distributionSets: [{ id: 'fw', version: '2.0', modules: [{ id: 7, type: 'os', name: 'fw', version: '2.0', artifacts: [{ filename: 'fw.bin', size: SIZE, seed: SEED }] }] }],
        rollouts: [
          { name: 'two-groups', distributionSet: 'fw', targets: 'd{000..009}', groups: [50, 50], actionType: 'forced', successThreshold: 60, successAction: 'nextgroup', errorThreshold: { percent: 40 }, start: true },
          { name: 'soft', distributionSet: 'fw', targets: 'd{010..019}', groups: [100], actionType: 'soft', successThreshold: 100, successAction: 'nextgroup', errorThreshold: {}, start: true, maintenanceWindow: { every: 3_600_000, duration: 600_000 } },
          { name: 'download-only', distributionSet: 'fw', targets: 'd{020..029}', groups: [100], actionType: 'downloadonly', successThreshold: 100, successAction: 'nextgroup', errorThreshold: {}, start: true },
          { name: 'pausing', distributionSet: 'fw', targets: 'd{030..039}', groups: [50, 50], actionType: 'forced', successThreshold: 20, successAction: 'pause', errorThreshold: {}, start: true },
          { name: 'error-count', distributionSet: 'fw', targets: 'd{040..049}', groups: [50, 50], actionType: 'forced', successThreshold: 100, successAction: 'nextgroup', errorThreshold: { count: 2 }, start: true },
          { name: 'misc', distributionSet: 'fw', targets: 'd{060..079}', groups: [100], actionType: 'forced', successThreshold: 100, successAction: 'nextgroup', errorThreshold: {}, start: true },
          { name: 'later', distributionSet: 'fw', targets: 'd{050..059}', groups: [100], actionType: 'forced', successThreshold: 100, successAction: 'nextgroup', errorThreshold: {}, start: false },
        ],
      },
    ],
  };
  return c;
}

let s: TestServer;
beforeAll(async () => {
  s = await start({ catalog: ddiCatalog(), clock: { virtualMs: T0, wallMs: Date.now(), scale: 'max' } });
});
afterAll(() => s.close());

const base = (id: string, tenant = 'acme'): string => `/${tenant}/controller/v1/${id}`;
const auth = (id: string): string => `TargetToken ${deriveTargetToken(KEY, 'acme', id)}`;

interface CallOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  at?: number;
  ip?: string;
  token?: string | null;
}

/** A DDI call as target `id`, from a whitelisted address unless told, at virtual instant `at` (default T0). */
function ddi(id: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'x-forwarded-for': o.ip ?? '10.0.0.1', 'x-ota-swarm-virtual-ms': String(o.at ?? T0), ...o.headers };
  if (o.token !== null) headers['authorization'] = o.token ?? auth(id);
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  return send(s.url + (path.startsWith('/') ? path : `${base(id)}/${path}`), o.method ?? (o.body !== undefined ? 'POST' : 'GET'), headers, o.body === undefined ? undefined : JSON.stringify(o.body));
}

const poll = (id: string, o: CallOptions = {}): Promise<Reply> => ddi(id, base(id), o);
const linkPath = (href: string): string => new URL(href).pathname;
const fb = (execution: string, finished = 'none', progress?: { cnt: number; of: number }): unknown => ({ status: { execution, result: { finished, ...(progress ? { progress } : {}) }, details: ['x'] } });

/** Polls and returns the offered action's id. */
async function actionOf(id: string): Promise<number> {
  const r = await poll(id);
  expect(r.status).toBe(200);
  const href: string = r.json._links.deploymentBase.href;
  return Number(/deploymentBase\/(\d+)/.exec(href)?.[1]);
}

const close = (id: string, action: number, finished: 'success' | 'failure'): Promise<Reply> => ddi(id, `deploymentBase/${action}/feedback`, { body: fb('closed', finished) });

async function withBugs<T>(bugs: BugName[], fn: () => Promise<T>): Promise<T> {
  await s.admin('PUT', '/admin/bugs', { bugs });
  try {
    return await fn();
  } finally {
    await s.admin('PUT', '/admin/bugs', { bugs: [] });
  }
}

describe('poll (GET /{tenant}/controller/v1/{controllerId})', () => {
  it('answers config.polling.sleep as HH:MM:SS, the deploymentBase of the open action and configData until attributes came', async () => {
    const r = await poll('d000');
    expect(r.status).toBe(200);
    expect(r.json.config.polling.sleep).toBe('00:00:30');
    expect(parseSleep(r.json.config.polling.sleep)).toBe(30_000);
    expect(linkPath(r.json._links.deploymentBase.href)).toMatch(/^\/acme\/controller\/v1\/d000\/deploymentBase\/\d+$/);
    expect(linkPath(r.json._links.configData.href)).toBe('/acme/controller/v1/d000/configData');
  });

  it('offers nothing to a target no started group covers', async () => {
    const r = await poll('d080');
    expect(r.status).toBe(200);
    expect(r.json._links.deploymentBase).toBeUndefined();
  });

  it('401 without Authorization, with an unknown scheme, or with another target\'s token; GatewayToken of the tenant is accepted', async () => {
    expect((await poll('d081', { token: null })).status).toBe(401);
    expect((await poll('d081', { token: 'Bearer abc' })).status).toBe(401);
    expect((await poll('d081', { token: auth('d082') })).status).toBe(401);
    expect((await poll('d081', { token: 'GatewayToken wrong' })).status).toBe(401);
    expect((await poll('d081', { token: `GatewayToken ${GATEWAY}` })).status).toBe(200);
  });

  it('404 for an unknown tenant or a controller id in none of its ranges; 405 for another method', async () => {
    expect((await ddi('d081', base('d081', 'nobody'))).status).toBe(404);
    expect((await poll('x999')).status).toBe(404);
    expect((await ddi('d081', base('d081'), { method: 'DELETE' })).status).toBe(405);
  });
});

describe('deploymentBase (GET …/deploymentBase/{actionId})', () => {
  it('forced: download and update forced, one chunk whose artifact has the sha1, md5 and sha256 of the bytes served and download links', async () => {
    const action = await actionOf('d001');
    const r = await ddi('d001', `deploymentBase/${action}`);
    expect(r.status).toBe(200);
    expect(r.json.id).toBe(String(action));
    expect(r.json.deployment.download).toBe('forced');
    expect(r.json.deployment.update).toBe('forced');
    const a = r.json.deployment.chunks[0].artifacts[0];
    const bytes = generatePackageBytes(SEED, SIZE);
    expect(a.size).toBe(SIZE);
    expect(a.hashes).toEqual({
      sha1: createHash('sha1').update(bytes).digest('hex'),
      md5: createHash('md5').update(bytes).digest('hex'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(linkPath(a._links.download.href)).toBe('/acme/controller/v1/d001/softwaremodules/7/artifacts/fw.bin');
    expect(a._links['download-http'].href).toBe(a._links.download.href);
    expect(a._links.md5sum.href).toBe(`${a._links.download.href}.MD5SUM`);
  });

  it('soft: attempt / attempt, with the maintenance window available inside it and update skip outside', async () => {
    const action = await actionOf('d010');
    const inside = await ddi('d010', `deploymentBase/${action}`, { at: 3_600_000 * 1000 + 60_000 });
    expect(inside.json.deployment).toMatchObject({ download: 'attempt', update: 'attempt', maintenanceWindow: 'available' });
    const outside = await ddi('d010', `deploymentBase/${action}`, { at: 3_600_000 * 1000 + 1_200_000 });
    expect(outside.json.deployment).toMatchObject({ download: 'attempt', update: 'skip', maintenanceWindow: 'unavailable' });
  });

  it('downloadonly: download forced, update skip', async () => {
    const action = await actionOf('d020');
    const r = await ddi('d020', `deploymentBase/${action}`);
    expect(r.json.deployment).toMatchObject({ download: 'forced', update: 'skip' });
  });

  it("404 for another target's action", async () => {
    const action = await actionOf('d002');
    expect((await ddi('d003', `deploymentBase/${action}`)).status).toBe(404);
  });
});

describe('artifacts (GET …/softwaremodules/{id}/artifacts/{file})', () => {
  const path = 'softwaremodules/7/artifacts/fw.bin';
  it('honours Range (206, Content-Range), serves the whole file without one (200) and the MD5SUM', async () => {
    await actionOf('d004');
    const bytes = generatePackageBytes(SEED, SIZE);
    const part = await ddi('d004', path, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${SIZE}`);
    expect(part.body.equals(bytes.subarray(100, 200))).toBe(true);
    const whole = await ddi('d004', path);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(bytes)).toBe(true);
    const sum = await ddi('d004', `${path}.MD5SUM`);
    expect(sum.text).toContain(createHash('md5').update(bytes).digest('hex'));
  });

  it('404 for a target with no action of the module', async () => {
    await poll('d083');
    expect((await ddi('d083', path)).status).toBe(404);
  });
});

describe('feedback (POST …/deploymentBase/{actionId}/feedback)', () => {
  it('accepts every open execution value with result none and progress, and each is one status entry', async () => {
    const action = await actionOf('d064');
    for (const execution of ['proceeding', 'scheduled', 'rejected', 'resumed', 'downloading']) {
      expect((await ddi('d064', `deploymentBase/${action}/feedback`, { body: fb(execution, 'none', { cnt: 1, of: 4 }) })).status, execution).toBe(200);
    }
    const view = (await s.admin('GET', '/admin/hawkbit/targets/acme/d064')).json;
    expect(view.actions[0]).toMatchObject({ state: 'running', statuses: 5, lastExecution: 'downloading', lastProgress: { cnt: 1, of: 4 } });
  });

  it('downloaded keeps the action open; closed/success finishes it; any later feedback is 410 (gone)', async () => {
    const action = await actionOf('d065');
    expect((await ddi('d065', `deploymentBase/${action}/feedback`, { body: fb('downloaded') })).status).toBe(200);
    expect((await s.admin('GET', '/admin/hawkbit/targets/acme/d065')).json.actions[0].state).toBe('downloaded');
    expect((await close('d065', action, 'success')).status).toBe(200);
    const view = (await s.admin('GET', '/admin/hawkbit/targets/acme/d065')).json;
    expect(view.actions[0]).toMatchObject({ state: 'finished', successCounts: 1 });
    expect(view.installed).toBe('fw');
    expect((await close('d065', action, 'success')).status).toBe(410);
    expect((await ddi('d065', `deploymentBase/${action}/feedback`, { body: fb('proceeding') })).status).toBe(410);
    // A closed action is no longer offered.
    expect((await poll('d065')).json._links?.deploymentBase).toBeUndefined();
  });

  it('closed/failure puts the action in error; canceled closes it cancelled; closed/none leaves it open', async () => {
    const a = await actionOf('d062');
    expect((await ddi('d062', `deploymentBase/${a}/feedback`, { body: fb('closed', 'none') })).status).toBe(200);
    expect((await s.admin('GET', '/admin/hawkbit/targets/acme/d062')).json.actions[0].state).toBe('running');
    expect((await close('d062', a, 'failure')).status).toBe(200);
    expect((await s.admin('GET', '/admin/hawkbit/targets/acme/d062')).json.actions[0].state).toBe('error');
    const b = await actionOf('d011');
    expect((await ddi('d011', `deploymentBase/${b}/feedback`, { body: fb('canceled') })).status).toBe(200);
    expect((await s.admin('GET', '/admin/hawkbit/targets/acme/d011')).json.actions[0].state).toBe('canceled');
  });

  it('400 for a body that is not DDI feedback (execution, finished, progress, details)', async () => {
    const action = await actionOf('d012');
    const path = `deploymentBase/${action}/feedback`;
    expect(EXECUTIONS).toContain('closed');
    for (const body of [{}, { status: { execution: 'done', result: { finished: 'none' } } }, { status: { execution: 'closed', result: { finished: 'ok' } } }, fb('proceeding', 'none', { cnt: -1, of: 2 }), { status: { execution: 'proceeding', result: { finished: 'none' }, details: [1] } }]) {
      expect((await ddi('d012', path, { body })).status, JSON.stringify(body)).toBe(400);
    }
  });

  it('403 once the action holds the quota of status entries (and for more than 50 messages in one)', async () => {
    const action = await actionOf('d013');
    const path = `deploymentBase/${action}/feedback`;
    for (let i = 0; i < 6; i++) expect((await ddi('d013', path, { body: fb('proceeding') })).status).toBe(200);
    expect((await ddi('d013', path, { body: fb('proceeding') })).status).toBe(403);
    const b = await actionOf('d014');
    const many = { status: { execution: 'proceeding', result: { finished: 'none' }, details: Array.from({ length: 51 }, () => 'm') } };
    expect((await ddi('d014', `deploymentBase/${b}/feedback`, { body: many })).status).toBe(403);
  });

  it('404 for an action of another target', async () => {
    const action = await actionOf('d015');
    expect((await ddi('d016', `deploymentBase/${action}/feedback`, { body: fb('proceeding') })).status).toBe(404);
  });
});

describe('cancelAction', () => {
  it('a cancelled action is offered by cancelAction only; its deploymentBase is 404 and its feedback 409; the cancel feedback closes it', async () => {
    const action = await actionOf('d017');
    expect((await s.admin('POST', `/admin/hawkbit/actions/${action}/cancel`)).status).toBe(200);
    const r = await poll('d017');
    expect(r.json._links.deploymentBase).toBeUndefined();
    expect(linkPath(r.json._links.cancelAction.href)).toBe(`/acme/controller/v1/d017/cancelAction/${action}`);
    const c = await ddi('d017', `cancelAction/${action}`);
    expect(c.status).toBe(200);
    expect(c.json).toEqual({ id: String(action), cancelAction: { stopId: String(action) } });
    expect((await ddi('d017', `deploymentBase/${action}`)).status).toBe(404);
    expect((await ddi('d017', `deploymentBase/${action}/feedback`, { body: fb('proceeding') })).status).toBe(409);
    expect((await ddi('d017', `cancelAction/${action}/feedback`, { body: fb('closed', 'success') })).status).toBe(200);
    expect((await s.admin('GET', '/admin/hawkbit/targets/acme/d017')).json.actions[0].state).toBe('canceled');
    expect((await ddi('d017', `cancelAction/${action}/feedback`, { body: fb('closed', 'success') })).status).toBe(410);
  });

  it('a rejected cancel gives the action back; a cancel feedback on an action nobody cancelled is 409; GET cancelAction of it 404', async () => {
    const action = await actionOf('d018');
    expect((await ddi('d018', `cancelAction/${action}`)).status).toBe(404);
    expect((await ddi('d018', `cancelAction/${action}/feedback`, { body: fb('closed', 'success') })).status).toBe(409);
    await s.admin('POST', `/admin/hawkbit/actions/${action}/cancel`);
    expect((await ddi('d018', `cancelAction/${action}/feedback`, { body: fb('rejected') })).status).toBe(200);
    expect((await s.admin('GET', '/admin/hawkbit/targets/acme/d018')).json.actions[0].state).toBe('running');
    expect((await s.admin('POST', '/admin/hawkbit/actions/999999/cancel')).status).toBe(404);
  });
});

describe('configData (PUT …/configData)', () => {
  it('stores the attributes (then the poll stops asking), 400 for a bad body, 405 for POST', async () => {
    expect((await ddi('d084', 'configData', { method: 'PUT', body: { mode: 'merge', data: { hw: 'rev2', battery: '80' } } })).status).toBe(200);
    expect((await poll('d084')).json._links?.configData).toBeUndefined();
    expect((await s.admin('GET', '/admin/hawkbit/targets/acme/d084')).json.attributes).toEqual({ hw: 'rev2', battery: '80' });
    expect((await ddi('d084', 'configData', { method: 'PUT', body: { data: { n: 1 } } })).status).toBe(400);
    expect((await ddi('d084', 'configData', { method: 'PUT', body: { data: {}, mode: 'other' } })).status).toBe(400);
    expect((await ddi('d084', 'configData', { method: 'POST', body: { data: {} } })).status).toBe(405);
  });
});

describe('DoS filter: reads and writes per client IP and second (X-Forwarded-For), 429', () => {
  it('the 6th GET of one address in one second is 429, the next second is fresh; whitelisted addresses are never limited', async () => {
    const at = T0 + 10_000;
    for (let i = 0; i < 5; i++) expect((await poll('d085', { ip: '203.0.113.7', at })).status).toBe(200);
    expect((await poll('d085', { ip: '203.0.113.7', at })).status).toBe(429);
    expect((await poll('d085', { ip: '203.0.113.8', at })).status).toBe(200);
    expect((await poll('d085', { ip: '203.0.113.7', at: at + 1000 })).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await poll('d085', { ip: '192.168.1.9', at })).status).toBe(200);
  });

  it('writes count apart: the 4th in a second is 429', async () => {
    const at = T0 + 20_000;
    for (let i = 0; i < 3; i++) expect((await ddi('d086', 'configData', { method: 'PUT', body: { data: { i: String(i) } }, ip: '198.51.100.1', at })).status).toBe(200);
    expect((await ddi('d086', 'configData', { method: 'PUT', body: { data: {} }, ip: '198.51.100.1', at })).status).toBe(429);
    expect((await poll('d086', { ip: '198.51.100.1', at })).status).toBe(200);
  });
});

describe('rollouts: groups, success and error thresholds', () => {
  const rollout = async (name: string): Promise<any> => (await s.admin('GET', '/admin/hawkbit')).json.tenants[0].rollouts.find((r: any) => r.name === name);

  it('the next group starts once the running one reaches its success threshold (60 % of 5)', async () => {
    expect((await poll('d007')).json._links.deploymentBase).toBeUndefined(); // group 2
    for (const id of ['d000', 'd001']) await close(id, await actionOf(id), 'success');
    expect((await poll('d007')).json._links.deploymentBase).toBeUndefined();
    expect((await rollout('two-groups')).startedGroups).toBe(1);
    await close('d002', await actionOf('d002'), 'success'); // 3 of 5 = 60 %
    expect((await rollout('two-groups')).startedGroups).toBe(2);
    expect((await poll('d007')).json._links.deploymentBase).toBeDefined();
  });

  it('pause: the rollout pauses at the threshold and the next group starts only when resumed', async () => {
    await close('d030', await actionOf('d030'), 'success'); // 1 of 5 = 20 %
    expect((await rollout('pausing')).state).toBe('paused');
    expect((await poll('d036')).json._links?.deploymentBase).toBeUndefined();
    expect((await s.admin('POST', '/admin/hawkbit/rollouts/acme/pausing/resume')).status).toBe(200);
    expect((await poll('d036')).json._links.deploymentBase).toBeDefined();
    expect((await s.admin('POST', '/admin/hawkbit/rollouts/acme/pausing/resume')).status).toBe(409);
  });

  it('an error count stops the rollout: the next group never starts', async () => {
    await close('d040', await actionOf('d040'), 'failure');
    expect((await rollout('error-count')).state).toBe('running');
    await close('d041', await actionOf('d041'), 'failure');
    const r = await rollout('error-count');
    expect(r.state).toBe('stopped');
    expect(r.why).toContain('2 of 5 in error');
    for (const id of ['d043', 'd044']) await close(id, await actionOf(id), 'success');
    expect((await poll('d046')).json._links?.deploymentBase).toBeUndefined();
  });

  it('an error percentage stops it too (40 % of a group of 5)', async () => {
    const { advanceRollout } = await import('../../src/server/hawkbit/state.js');
    const r: any = { spec: { errorThreshold: { percent: 40 }, successThreshold: 100, successAction: 'nextgroup' }, groups: [{ size: 5, created: 5, success: 0, error: 2, canceled: 0 }, { size: 5, created: 0, success: 0, error: 0, canceled: 0 }], started: 1, state: 'running' };
    advanceRollout(r, 0);
    expect(r.state).toBe('stopped');
    r.state = 'running';
    r.groups[0].error = 1;
    advanceRollout(r, 0);
    expect(r.state).toBe('running');
  });

  it('a rollout not started offers nothing until the admin starts it', async () => {
    expect((await poll('d050')).json._links?.deploymentBase).toBeUndefined();
    expect((await s.admin('POST', '/admin/hawkbit/rollouts/acme/later/start')).status).toBe(200);
    expect((await poll('d050')).json._links.deploymentBase).toBeDefined();
  });
});

describe('admin device views (what the verdicts compare final states with)', () => {
  it('a target\'s actions as tasks in task words; an id never seen is known: false; an id in no tenant is an error', async () => {
    const action = await actionOf('d066');
    await close('d066', action, 'success');
    const q = await s.admin('POST', '/admin/devices/query', { ids: ['d066', 'd090', 'zz'], dialect: 'hawkbit' });
    expect(q.status).toBe(200);
    expect(q.json.devices[0]).toMatchObject({ id: 'd066', dialect: 'hawkbit', known: true, installed: 'fw', tasks: [{ id: String(action), state: 'succeeded', action: 'finished', successes: 1 }] });
    expect(q.json.devices[1]).toMatchObject({ id: 'd090', known: false, tasks: [] });
    expect(q.json.devices[2]).toMatchObject({ id: 'zz', error: expect.any(String) });
    const one = await s.admin('GET', '/admin/devices/d066?dialect=hawkbit');
    expect(one.json.history.length).toBeGreaterThan(0);
  });
});

describe('named bugs', () => {
  it('ignore-range: an artifact with a Range is answered 200 with the whole file', async () => {
    await actionOf('d021');
    const r = await withBugs(['ignore-range'], () => ddi('d021', 'softwaremodules/7/artifacts/fw.bin', { headers: { range: 'bytes=100-199' } }));
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(SIZE);
  });

  it('wrong-hash: deploymentBase announces hashes of other bytes', async () => {
    const action = await actionOf('d022');
    const r = await withBugs(['wrong-hash'], () => ddi('d022', `deploymentBase/${action}`));
    expect(r.json.deployment.chunks[0].artifacts[0].hashes.md5).not.toBe(createHash('md5').update(generatePackageBytes(SEED, SIZE)).digest('hex'));
  });

  it('answer-cancelled-action: the poll keeps offering a cancelled action\'s deploymentBase, which answers 200', async () => {
    const action = await actionOf('d023');
    await s.admin('POST', `/admin/hawkbit/actions/${action}/cancel`);
    await withBugs(['answer-cancelled-action'], async () => {
      const r = await poll('d023');
      expect(r.json._links.cancelAction).toBeUndefined();
      expect(r.json._links.deploymentBase).toBeDefined();
      expect((await ddi('d023', `deploymentBase/${action}`)).status).toBe(200);
    });
  });

  it('double-count-success: a second closed/success is answered 200 and counted again', async () => {
    const action = await actionOf('d024');
    await close('d024', action, 'success');
    const again = await withBugs(['double-count-success'], () => close('d024', action, 'success'));
    expect(again.status).toBe(200);
    expect((await s.admin('GET', '/admin/hawkbit/targets/acme/d024')).json.actions[0].successCounts).toBe(2);
  });
});
