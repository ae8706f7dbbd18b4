/** The run's exchange log: workers' parts merged into one file, in time order (JSON lines or CSV), parts removed. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExchangeLogPart, mergeExchangeParts, partFileOf } from '../../src/exchanges/log-writer.js';
import { exchangeRecord } from '../../src/exchanges/record.js';
import { taskPseudonyms } from '../../src/exchanges/pseudonym.js';
import { parseCsv } from '../../src/exchanges/formats/csv.js';

const rec = (t: string, device: string): Record<string, unknown> => ({ t, device, method: 'GET', path: `/ota/south/check?dev_id=${device}`, status: 200, errno: 11 });

describe('the exchange log', () => {
  it('merges parts in time order and removes them; a worker with no part is none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlog-'));
    const file = join(dir, 'x.jsonl');
    const a = new ExchangeLogPart(partFileOf(file, 0));
    a.write(rec('2026-01-01T00:00:02.000Z', 'a2'));
    a.write(rec('2026-01-01T00:00:00.500Z', 'a1')); // answered later than sent: out of order in its part
    await a.close();
    writeFileSync(partFileOf(file, 1), `${JSON.stringify(rec('2026-01-01T00:00:01.000Z', 'b1'))}\n`);
    expect(await mergeExchangeParts(file, 3)).toEqual({ records: 3, ordered: true });
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { device: string }).device)).toEqual(['a1', 'b1', 'a2']);
    expect(existsSync(partFileOf(file, 0)) || existsSync(partFileOf(file, 1))).toBe(false);
  });

  it('streams parts worker by worker when they are too large to sort in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlog-'));
    const file = join(dir, 'x.jsonl');
    writeFileSync(partFileOf(file, 0), [rec('2026-01-01T00:00:02.000Z', 'a2'), rec('2026-01-01T00:00:00.500Z', 'a1')].map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(partFileOf(file, 1), `${JSON.stringify(rec('2026-01-01T00:00:01.000Z', 'b1'))}\n`);
    expect(await mergeExchangeParts(file, 2, 0)).toEqual({ records: 3, ordered: false });
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { device: string }).device)).toEqual(['a2', 'a1', 'b1']);
  });

  it('writes CSV with the documented header when the file ends in .csv', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlog-'));
    const file = join(dir, 'x.csv');
    writeFileSync(partFileOf(file, 0), `${JSON.stringify({ ...rec('2026-01-01T00:00:00.000Z', 'a'), body: '{"step":25}' })}\n`);
    expect(await mergeExchangeParts(file, 1)).toEqual({ records: 1, ordered: true });
    expect(parseCsv(readFileSync(file, 'utf8'), 'x.csv')).toMatchObject([{ device: 'a', body: '{"step":25}', errno: 11 }]);
  });

  it('records an exchange without keys, with its task pseudonymised in the path and the answer', () => {
    const pseudonym = taskPseudonyms(Buffer.from('fixed-salt'));
    const r = exchangeRecord(
      '866714040000001',
      'luat',
      { method: 'GET', path: '/api/site/firmware_upgrade?project_key=SECRET&imei=866714040000001', headers: {} },
      { kind: 'response', status: 400, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"code":43,"msg":"wait"}') },
      Date.parse('2026-01-01T00:00:00Z'),
      pseudonym,
    );
    expect(r).toEqual({ t: '2026-01-01T00:00:00.000Z', device: '866714040000001', dialect: 'luat', op: 'luat', method: 'GET', path: '/api/site/firmware_upgrade?imei=866714040000001', status: 400, code: 43 });
    const d = exchangeRecord(
      '522700001',
      'onenet',
      { method: 'GET', path: '/ota/south/download/ota_realToken/check?dev_id=522700001', headers: { Authorization: 'version=2018-10-31&sign=x' } },
      { kind: 'response', status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"errno":0}') },
      0,
      pseudonym,
    );
    expect(d['path']).toBe(`/ota/south/download/${pseudonym('ota_realToken')}/check?dev_id=522700001`);
    expect(pseudonym('ota_realToken')).toMatch(/^task-[0-9a-f]{16}$/);
    expect(JSON.stringify(d)).not.toMatch(/sign=|ota_realToken/);
  });
});
