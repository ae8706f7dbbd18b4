/**
 * The LwM2M part of the admin API, under /admin/lwm2m (docs/server.md): the server's own view of
 * registrations, downlink commands and each device's Object 5, so a harness can compare what the
 * devices reported with what the server believes.
 */
import { parseIdRange } from '../../catalog/id-range.js';
import { json, type Answer } from '../http/answer.js';
import type { ServerState } from '../server-state.js';
import { isReachable, isRegistered } from './registry.js';
import type { Command, Lwm2mDevice } from './model.js';
import type { Lwm2mServer } from './server.js';

/** Ids per bulk query at most (as POST /admin/devices/query). */
const QUERY_LIMIT = 10_000;

const error = (status: number, message: string): Answer => json(status, { error: message });

export function lwm2mAdmin(state: ServerState, method: string, seg: readonly string[], readBody: () => Record<string, unknown>): Answer {
  const server = state.lwm2m;
  const [, a, b] = seg;
  if (seg.length === 1) return method === 'GET' ? json(200, summary(state)) : error(405, 'use GET');
  if (a === 'devices' && b === 'query' && seg.length === 3) return method === 'POST' ? lwm2mDevicesQuery(server, readBody()) : error(405, 'use POST');
  if (a === 'devices' && b !== undefined && seg.length === 3) return method === 'GET' ? lwm2mDeviceAnswer(server, b) : error(405, 'use GET');
  if (a === 'campaigns' && seg.length === 2) {
    if (method === 'GET') return json(200, { campaigns: server.campaigns.map((c) => ({ index: c.index, ...c.spec, version: c.pkg.version })) });
    if (method !== 'POST') return error(405, 'use GET or POST');
    return addCampaign(server, readBody());
  }
  return error(404, 'not found');
}

function summary(state: ServerState): Record<string, unknown> {
  const server = state.lwm2m;
  const now = Math.floor(state.clock.now());
  const campaign = { devices: 0, succeeded: 0, failed: 0, inProgress: 0 };
  const updateResults: Record<string, number> = {};
  let awake = 0;
  for (const d of server.registry.byEp.values()) {
    if (isReachable(d, now, server.awakeMs)) awake++;
    const f = d.firmware;
    if (f.updateResult !== undefined) updateResults[f.updateResult] = (updateResults[f.updateResult] ?? 0) + 1;
    if (f.campaign < 0) continue;
    campaign.devices++;
    if (f.phase === 'succeeded') campaign.succeeded++;
    else if (f.phase === 'failed') campaign.failed++;
    else campaign.inProgress++;
  }
  return {
    coapUrl: state.coapTransport.url,
    schedule: server.schedule,
    commandTtlSec: server.commandTtlMs / 1000,
    awakeSec: server.awakeMs / 1000,
    registrations: server.registry.count(now),
    endpointsSeen: server.registry.byEp.size,
    maxRegistrations: server.registry.maxEndpoints,
    reachable: awake,
    commands: server.commandCounts(),
    campaign,
    updateResults,
    packages: [...server.packages.values()].map((p) => ({ id: p.id, version: p.version, size: p.size, md5: p.md5, uri: server.packageUri(p) })),
    counters: { ...server.counters, registrationsRefused: server.registry.refused, endpointsForgotten: server.registry.forgotten, ...(state.coapCounters ?? {}) },
  };
}

/**
 * The effective `lwm2m` section for GET /admin/catalog (the built-in one when the catalog has
 * none), packages with their md5 and URI: a client reads the retransmit schedule from here.
 */
export function lwm2mCatalogSection(server: Lwm2mServer): Record<string, unknown> {
  return {
    schedule: server.schedule.name,
    commandTtlSec: server.commandTtlMs / 1000,
    awakeSec: server.awakeMs / 1000,
    maxRegistrations: server.registry.maxEndpoints,
    packages: [...server.packages.values()].map((p) => ({ id: p.id, version: p.version, size: p.size, seed: p.seed, fileName: p.fileName, md5: p.md5, uri: server.packageUri(p) })),
    campaigns: server.campaigns.map((c) => c.spec),
  };
}

const commandView = (c: Command): Record<string, unknown> => ({
  id: c.id,
  kind: c.kind,
  path: c.path,
  state: c.state,
  createdAt: c.createdAt,
  transmissions: c.transmissions,
  ...(c.deliveredAt !== undefined ? { deliveredAt: c.deliveredAt } : {}),
  ...(c.finishedAt !== undefined ? { finishedAt: c.finishedAt } : {}),
  ...(c.code !== undefined ? { code: c.code } : {}),
  ...(c.payload !== undefined && c.kind === 'write' ? { payload: c.payload.toString('utf8') } : {}),
});

/** GET /admin/lwm2m/devices/{ep} (and /admin/devices/{ep}?dialect=lwm2m). */
export function lwm2mDeviceAnswer(server: Lwm2mServer, ep: string): Answer {
  const device = server.registry.byEp.get(ep);
  return device ? json(200, deviceView(server, device)) : error(404, `endpoint ${ep} never registered`);
}

/**
 * One endpoint as the server sees it. `id` and `dialect` make it a device view of the generic
 * POST /admin/devices/query (`dialect: lwm2m`), which the client's verdicts read.
 */
export function deviceView(server: Lwm2mServer, d: Lwm2mDevice): Record<string, unknown> {
  const now = Math.floor(server.now());
  server.expirePending(d, now);
  const f = d.firmware;
  return {
    id: d.ep,
    dialect: 'lwm2m',
    known: true,
    ep: d.ep,
    registered: isRegistered(d, now),
    ...(d.regId !== undefined ? { regId: d.regId } : {}),
    binding: d.binding,
    lifetime: d.lifetimeSec,
    lwm2m: d.version,
    peer: `${d.peer.address}:${d.peer.port}`,
    registeredAt: d.registeredAt,
    lastHeard: d.lastHeard,
    awake: isReachable(d, now, server.awakeMs),
    registrations: d.registrations,
    updates: d.updates,
    expiries: d.expiries,
    firmware: {
      campaign: f.campaign,
      phase: f.phase,
      ...(f.state !== undefined ? { state: f.state } : {}),
      ...(f.updateResult !== undefined ? { updateResult: f.updateResult } : {}),
      ...(f.packageUri !== undefined ? { packageUri: f.packageUri } : {}),
    },
    commands: d.commands.map(commandView),
  };
}

/** POST /admin/lwm2m/devices/query and /admin/devices/query with `dialect: lwm2m`: `{ids}` → `{devices}`. */
export function lwm2mDevicesQuery(server: Lwm2mServer, body: Record<string, unknown>): Answer {
  const ids = body['ids'];
  if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string')) return error(400, 'ids: expected an array of strings');
  if (ids.length > QUERY_LIMIT) return error(400, `ids: at most ${QUERY_LIMIT} per query`);
  return json(200, {
    devices: (ids as string[]).map((ep) => {
      const d = server.registry.byEp.get(ep);
      return d ? deviceView(server, d) : { id: ep, ep, error: 'never registered' };
    }),
  });
}

function addCampaign(server: Lwm2mServer, body: Record<string, unknown>): Answer {
  const endpoints = body['endpoints'];
  const pkg = body['package'];
  const observe = body['observe'] ?? true;
  const delivery = body['delivery'] ?? 'coap';
  if (typeof endpoints !== 'string' || endpoints.length === 0) return error(400, 'endpoints: expected an endpoint range (lwm2m-{000000..000099})');
  if (typeof pkg !== 'string') return error(400, 'package: expected a package id');
  if (typeof observe !== 'boolean') return error(400, 'observe: expected true or false');
  if (delivery !== 'coap' && delivery !== 'http') return error(400, 'delivery: expected coap or http');
  try {
    parseIdRange(endpoints);
  } catch (err) {
    return error(400, `endpoints: ${(err as Error).message}`);
  }
  if (!server.packages.has(pkg)) return error(404, `no LwM2M package ${pkg}`);
  const c = server.addCampaign({ endpoints, package: pkg, observe, delivery });
  return json(201, { index: c.index, endpoints, package: pkg, observe, delivery, uri: server.packageUri(c.pkg, delivery) });
}
