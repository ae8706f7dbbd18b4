/** The log readers: each format into the documented columns, and a bad line named by file:line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { parseJsonLines } from '../../src/exchanges/formats/jsonl.js';
import { csvHeader, csvLineOf, parseCsv, splitCsvLine } from '../../src/exchanges/formats/csv.js';
import { parseHar } from '../../src/exchanges/formats/har.js';
import { parseNginx, timeLocalOf } from '../../src/exchanges/formats/nginx.js';
import { detectFormat, readLog } from '../../src/exchanges/read-log.js';
import { withoutSecrets } from '../../src/exchanges/exchange.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('JSON lines', () => {
  it('reads the documented columns, ISO or epoch times, and skips blank lines', () => {
    const text = [
      '{"t":"2026-11-20T08:00:00.000Z","device":"522700042","method":"GET","path":"/ota/south/check?dev_id=522700042","status":200,"errno":0,"task":"tok","version":"V2.0"}',
      '',
      '{"t":1763625601000,"device":"522700042","method":"GET","path":"/ota/south/download/tok","range":"bytes=0-99","status":206,"bytes":100}',
      '{"t":"2026-11-20T08:00:02.000Z","device":"522700042","method":"GET","path":"/ota/south/download/tok","net":"ECONNRESET","status":206,"bytes":40,"cut":true}',
    ].join('\n');
    const got = parseJsonLines(text, 'field.jsonl');
    expect(got).toHaveLength(3);
    expect(got[0]).toEqual({ where: 'field.jsonl:1', t: Date.parse('2026-11-20T08:00:00.000Z'), device: '522700042', method: 'GET', path: '/ota/south/check?dev_id=522700042', status: 200, errno: 0, task: 'tok', version: 'V2.0' });
    expect(got[1]).toMatchObject({ where: 'field.jsonl:3', t: 1763625601000, range: 'bytes=0-99', bytes: 100 });
    expect(got[2]).toMatchObject({ where: 'field.jsonl:4', net: 'ECONNRESET', cut: true, bytes: 40 });
  });

  it('names the line and the field of a bad record', () => {
    expect(errorOf(() => parseJsonLines('{"t":"2026-11-20T08:00:00Z","method":"GET","path":"/x"}\n{"t":"yesterday","method":"GET","path":"/x"}', 'f.jsonl'))).toBe(
      'f.jsonl:2: t: "yesterday" is not an ISO 8601 time nor ms since the epoch',
    );
    expect(errorOf(() => parseJsonLines('\n\n{"t":1,"method":"GET","path":"/x","status":"two hundred"}', 'f.jsonl'))).toBe('f.jsonl:3: status: "two hundred" is not an integer 0..999');
    expect(errorOf(() => parseJsonLines('{"t":1,"method":"get me","path":"/x"}', 'f.jsonl'))).toBe('f.jsonl:1: method: "get me" is not an HTTP method');
    expect(errorOf(() => parseJsonLines('{"t":1,"method":"GET"}', 'f.jsonl'))).toBe('f.jsonl:1: path: missing');
    expect(errorOf(() => parseJsonLines('{"t":1,', 'f.jsonl'))).toMatch(/^f\.jsonl:1: not JSON \(/);
    expect(errorOf(() => parseJsonLines('[1,2]', 'f.jsonl'))).toBe('f.jsonl:1: not a JSON object');
    expect(errorOf(() => parseJsonLines('{"t":1,"method":"GET","path":"/x","cut":"maybe"}', 'f.jsonl'))).toBe('f.jsonl:1: cut: "maybe" is not true or false');
  });

  it('never keeps a project key from a logged query', () => {
    const [e] = parseJsonLines('{"t":1,"method":"GET","path":"/api/site/firmware_upgrade?project_key=SECRET&imei=1"}', 'f.jsonl');
    expect(e?.path).toBe('/api/site/firmware_upgrade?imei=1');
    expect(withoutSecrets('/a?project_key=S')).toBe('/a');
  });
});

describe('CSV', () => {
  it('reads a header of documented columns in any order, with RFC 4180 quoting', () => {
    const text = 'path,t,method,body,status,errno\n/ota/device/version?dev_id=1,2026-11-20T08:00:00Z,POST,"{""s_version"":""V1.0""}",200,0\n';
    expect(parseCsv(text, 'f.csv')).toEqual([{ where: 'f.csv:2', t: Date.parse('2026-11-20T08:00:00Z'), method: 'POST', path: '/ota/device/version?dev_id=1', body: '{"s_version":"V1.0"}', status: 200, errno: 0 }]);
  });

  it('round-trips what the run writes', () => {
    const rec = { t: '2026-11-20T08:00:00.000Z', device: '7', method: 'POST', path: '/p?a=1,2', body: '{"step":25}', status: 200, errno: 0 };
    const [back] = parseCsv(`${csvHeader()}\n${csvLineOf(rec)}\n`, 'f.csv');
    expect(back).toEqual({ where: 'f.csv:2', t: Date.parse(rec.t), device: '7', method: 'POST', path: '/p?a=1,2', body: '{"step":25}', status: 200, errno: 0 });
  });

  it('names the line of a bad row or header', () => {
    expect(errorOf(() => parseCsv('t,method,path,colour\n', 'f.csv'))).toMatch(/^f\.csv:1: header: unknown column "colour" \(known: t, device/);
    expect(errorOf(() => parseCsv('t,method\n', 'f.csv'))).toBe('f.csv:1: header: column "path" is missing');
    expect(errorOf(() => parseCsv('t,method,path\n1,GET,/x\n1,GET\n', 'f.csv'))).toBe('f.csv:3: 2 fields, the header names 3');
    expect(errorOf(() => parseCsv('t,method,path\n1,GET,"/x\n', 'f.csv'))).toBe('f.csv:2: a quote is left open');
    expect(errorOf(() => parseCsv('t,method,path,bytes\n1,GET,/x,-5\n', 'f.csv'))).toBe(`f.csv:2: bytes: "-5" is not an integer 0..${Number.MAX_SAFE_INTEGER}`);
    expect(splitCsvLine('a,"b,c",')).toEqual(['a', 'b,c', '']);
  });
});

describe('HAR 1.2', () => {
  it('reads requests, Range, bodies, JSON answers, file sizes and unanswered requests', () => {
    const got = readLog(join(FIXTURES, 'onenet-field.har'));
    expect(got.format).toBe('har');
    const x = got.exchanges;
    expect(x).toHaveLength(10);
    expect(x[0]).toMatchObject({ method: 'POST', path: '/ota/device/version?dev_id=522700042', body: '{"s_version":"V1.0"}', status: 200, errno: 0 });
    expect(x[1]).toMatchObject({ status: 200, errno: 0, task: 'ota_fieldTok3n0000000001', version: 'V2.0' });
    expect(x[3]).toMatchObject({ range: 'bytes=0-65535', status: 206, bytes: 65536 });
    expect(x[4]?.where).toMatch(/onenet-field\.har: log\.entries\[4\]$/);
    expect(x[7]).toMatchObject({ net: 'NO_ANSWER' });
    expect(x[7]?.status).toBeUndefined();
  });

  it('names the entry and field of a bad one', () => {
    const har = (entry: unknown): string => JSON.stringify({ log: { entries: [entry] } });
    expect(errorOf(() => parseHar('{"log":{}}', 'c.har'))).toBe('c.har: log.entries: missing (not a HAR 1.2 file)');
    expect(errorOf(() => parseHar(har({ startedDateTime: 'soon', request: {}, response: {} }), 'c.har'))).toBe('c.har: log.entries[0].startedDateTime: "soon" is not an ISO 8601 time');
    expect(errorOf(() => parseHar(har({ startedDateTime: '2026-11-20T08:00:00Z', request: { method: 'GET', url: 'nope' }, response: { status: 200 } }), 'c.har'))).toBe(
      'c.har: log.entries[0].request.url: "nope" is not a URL',
    );
    expect(errorOf(() => parseHar(har({ startedDateTime: '2026-11-20T08:00:00Z', request: { method: 'GET', url: 'http://h/x' }, response: { status: 'ok' } }), 'c.har'))).toBe(
      'c.har: log.entries[0].response.status: "ok" is not an HTTP status',
    );
  });
});

describe('nginx / Apache combined', () => {
  it('reads the request line, status, bytes and the local time with its offset; drops the project key', () => {
    const got = readLog(join(FIXTURES, 'luat-access.log'));
    expect(got.format).toBe('nginx');
    expect(got.exchanges).toHaveLength(4);
    expect(got.exchanges[0]).toMatchObject({ where: expect.stringMatching(/luat-access\.log:1$/), t: Date.parse('2026-11-20T08:00:00Z'), method: 'GET', status: 400, bytes: 38 });
    expect(got.exchanges[0]?.path).not.toContain('REALKEY');
    expect(got.exchanges[3]).toMatchObject({ status: 200, bytes: 20480, t: Date.parse('2026-11-20T08:04:30Z') });
    expect(timeLocalOf('10/Oct/2000:13:55:36.250 -0700')).toBe(Date.parse('2000-10-10T20:55:36.250Z'));
  });

  it('reads 499 as an answer the device never heard, and names a bad line', () => {
    const [e] = parseNginx('1.2.3.4 - - [20/Nov/2026:08:00:00 +0000] "GET /ota/south/check?dev_id=1 HTTP/1.1" 499 0 "-" "-"', 'a.log');
    expect(e).toMatchObject({ net: 'CLIENT_CLOSED' });
    expect(errorOf(() => parseNginx('1.2.3.4 - - [20/Nov/2026:08:00:00 +0000] "GET / HTTP/1.1" 200 5\ngarbage', 'a.log'))).toMatch(/^a\.log:2: not a combined access log line/);
    expect(errorOf(() => parseNginx('1.2.3.4 - - [20/Nov/2026 08:00] "GET / HTTP/1.1" 200 5', 'a.log'))).toBe('a.log:1: time: "20/Nov/2026 08:00" is not dd/Mon/yyyy:hh:mm:ss +zzzz');
  });
});

describe('format detection', () => {
  it('tells the format from the name, else the first line', () => {
    expect(detectFormat('x.har', '')).toBe('har');
    expect(detectFormat('x.csv', '')).toBe('csv');
    expect(detectFormat('x.log', '{"t":1,"method":"GET","path":"/"}\n')).toBe('jsonl');
    expect(detectFormat('x.log', '{\n "log": {"entries": []}}')).toBe('har');
    expect(detectFormat('access.log', '1.2.3.4 - - [20/Nov/2026:08:00:00 +0000] "GET / HTTP/1.1" 200 5')).toBe('nginx');
    expect(detectFormat('x.txt', 't,method,path\n')).toBe('csv');
    expect(errorOf(() => detectFormat('x.txt', 'hello'))).toBe('x.txt:1: cannot tell the log\'s format (give --format jsonl, csv, har or nginx)');
  });

  it('says when the log cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    expect(errorOf(() => readLog(join(dir, 'missing.jsonl')))).toBe(`${join(dir, 'missing.jsonl')}: cannot read the log (ENOENT)`);
    writeFileSync(join(dir, 'a.jsonl'), '{"t":1,"method":"GET","path":"/x"}\n');
    expect(readLog(join(dir, 'a.jsonl'), 'jsonl').exchanges).toHaveLength(1);
  });
});
