import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { judgeStart, parseStartAt, readDateHeader, resolveStartAt, sleepUntilStart, startNotes, waitBeforeStart } from '../../src/engine/start-barrier.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('the agreed start', () => {
  it('reads an ISO instant with its zone, and refuses one without, or too far ahead, naming where it came from', () => {
    expect(parseStartAt('2026-12-01T12:05:00Z', '--start-at', NOW)).toBe(NOW + 300_000);
    expect(parseStartAt('2026-12-01T13:05:00+01:00', '--start-at', NOW)).toBe(NOW + 300_000);
    expect(() => parseStartAt('2026-12-01T12:05:00', '--start-at', NOW)).toThrow(/--start-at: .* has no time zone/);
    expect(() => parseStartAt('soonZ', 'OTA_SWARM_START_AT', NOW)).toThrow(/OTA_SWARM_START_AT: "soonZ" is not an ISO 8601 instant/);
    expect(() => parseStartAt('tomorrow', '--start-at', NOW)).toThrow(/--start-at: "tomorrow" is not an ISO 8601 instant/);
    expect(() => parseStartAt('Tue, 01 Dec 2026 12:05:00 GMT', '--start-at', NOW)).toThrow(/not an ISO 8601 instant/);
    expect(() => parseStartAt('2026-12-03T12:00:00Z', '--start-at', NOW)).toThrow(/more than 24 h ahead/);
    expect(resolveStartAt(undefined, { OTA_SWARM_START_AT: '2026-12-01T12:00:10Z' }, NOW)).toBe(NOW + 10_000);
    expect(resolveStartAt('2026-12-01T12:00:20Z', { OTA_SWARM_START_AT: '2026-12-01T12:00:10Z' }, NOW)).toBe(NOW + 20_000);
    expect(resolveStartAt(undefined, {}, NOW)).toBeUndefined();
  });

  it('waits until the workers\' lead before the start, and not at all once it passed', () => {
    expect(waitBeforeStart(NOW + 10_000, NOW, 300)).toBe(9_700);
    expect(waitBeforeStart(NOW, NOW + 5, 300)).toBe(0);
  });

  it('ends a wait on abort', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const waiting = sleepUntilStart(60_000, ac.signal);
    ac.abort();
    await waiting;
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('says how late a shard started, and its clock against the target\'s Date header', () => {
    const late = judgeStart({ startAtMs: NOW, startedWallMs: NOW + 1200, leadMs: 300, skew: { serverMs: NOW + 5000, localMs: NOW + 1300 } });
    expect(late).toEqual({ at: '2026-12-01T12:00:00.000Z', lateByMs: 1500, clockSkew: { ms: 4200, resolutionMs: 1000 } });
    const notes = startNotes(late);
    expect(notes[0]).toMatch(/started 1500 ms after the agreed start/);
    expect(notes[1]).toMatch(/4200 ms behind the target's Date header/);
    const onTime = judgeStart({ startAtMs: NOW, startedWallMs: NOW - 400, leadMs: 300, skew: undefined });
    expect(onTime.lateByMs).toBe(0);
    expect(onTime.clockSkew).toEqual({ notJudged: expect.stringMatching(/embedded server/) });
    expect(startNotes(onTime)).toEqual([]);
    expect(judgeStart({ startAtMs: NOW, startedWallMs: NOW, leadMs: 0, skew: { failed: 'the target sent no Date header' } }).clockSkew).toEqual({ notJudged: 'the target sent no Date header' });
  });
});

describe('readDateHeader', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  const serve = async (date: string | undefined): Promise<string> => {
    server = createServer((_, res) => {
      res.sendDate = false;
      if (date !== undefined) res.setHeader('date', date);
      res.end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  };

  it('reads the target\'s clock, or says why not', async () => {
    const ahead = new Date(Date.now() + 3_600_000).toUTCString();
    const r = await readDateHeader(await serve(ahead));
    expect('serverMs' in r && r.serverMs - r.localMs).toBeGreaterThan(3_590_000);
    await new Promise<void>((res) => server!.close(() => res()));
    expect(await readDateHeader(await serve(undefined))).toEqual({ failed: 'the target sent no Date header' });
    await new Promise<void>((res) => server!.close(() => res()));
    expect(await readDateHeader(await serve('yesterday'))).toEqual({ failed: 'the target\'s Date header "yesterday" is not a date' });
    await new Promise<void>((res) => server!.close(() => res()));
    server = undefined;
    expect(await readDateHeader('http://127.0.0.1:1/')).toEqual({ failed: expect.stringMatching(/did not answer a HEAD/) });
  });
});
