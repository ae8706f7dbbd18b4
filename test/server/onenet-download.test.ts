/** The OneNET download (spec §1.2 call 4): each Range rule its own case, headers, one-byte errors. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePackageBytes } from '../../src/catalog/package-bytes.js';
import { start, onenet, type TestServer } from './helpers.js';

const SIZE = 192 * 1024;
const BYTES = generatePackageBytes(11, SIZE);

let s: TestServer;
let token: string;
let n = 522720000;
beforeAll(async () => {
  s = await start();
  token = await onenet(s, String(n++)).token();
});
afterAll(() => s.close());

async function expectSpan(range: string | undefined, status: 200 | 206, start: number, end: number): Promise<void> {
  const r = await onenet(s, 'x').download(token, range);
  expect(r.status).toBe(status);
  expect(r.headers['content-length']).toBe(String(end - start + 1));
  expect(r.body.equals(BYTES.subarray(start, end + 1))).toBe(true);
  if (status === 206) expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${SIZE}`);
  else expect(r.headers['content-range']).toBeUndefined();
  expect(r.headers['content-disposition']).toBe('attachment; filename="app_V2.0.bin"');
}

describe('Range rules', () => {
  it('no Range: 200 with the whole file, whose md5 is the one check gave', async () => {
    await expectSpan(undefined, 200, 0, SIZE - 1);
    const r = await onenet(s, 'x').download(token);
    const check = await s.check('522720000');
    expect(createHash('md5').update(r.body).digest('hex')).toBe(check.json.data.md5);
  });
  it('bytes=a-b: 206 with bytes a..b', () => expectSpan('bytes=0-99', 206, 0, 99));
  it('a-b without the bytes= prefix is read the same', () => expectSpan('100-199', 206, 100, 199));
  it('bytes=start-: from start to the end', () => expectSpan('bytes=1000-', 206, 1000, SIZE - 1));
  it('bytes=start- with start ≥ length: start = 0', () => expectSpan(`bytes=${SIZE}-`, 206, 0, SIZE - 1));
  it('bytes=start-end with end ≥ length: end = length − 1', () => expectSpan(`bytes=10-${SIZE + 5000}`, 206, 10, SIZE - 1));
  it('bytes=start-end with start > end: start = 0', () => expectSpan('bytes=500-100', 206, 0, 100));
  it('bytes=-n: the last n bytes', () => expectSpan('bytes=-100', 206, SIZE - 100, SIZE - 1));
  it('bytes=-n with n > length: the whole file', () => expectSpan(`bytes=-${SIZE * 3}`, 206, 0, SIZE - 1));
  it('01-02 reads as 1-2', () => expectSpan('bytes=01-02', 206, 1, 2));
  it('a malformed Range: the whole file, 200', () => expectSpan('bytes=abc', 200, 0, SIZE - 1));
  it('several ranges (not supported): the whole file, 200', () => expectSpan('bytes=0-1,5-6', 200, 0, SIZE - 1));
  it('bytes=-0: the whole file, 200', () => expectSpan('bytes=-0', 200, 0, SIZE - 1));
  it('bytes=- : the whole file, 200', () => expectSpan('bytes=-', 200, 0, SIZE - 1));
  it('another unit: the whole file, 200', () => expectSpan('items=0-5', 200, 0, SIZE - 1));
  it('an enormous number: clamped to the end', () => expectSpan('bytes=5-99999999999999999999', 206, 5, SIZE - 1));
});

describe('one-byte errors (no Content-Length)', () => {
  const expectByte = async (r: { status: number; headers: Record<string, unknown>; text: string }, code: string): Promise<void> => {
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.text).toBe(code);
  };

  it('3: an unknown token', async () => {
    await expectByte(await onenet(s, 'x').download('ota_doesNotExist000000'), '3');
  });

  it('1: the task was cancelled', async () => {
    const id = String(n++);
    const t = await onenet(s, id).token();
    const taskId = (await s.device(id)).tasks[0].id;
    await s.admin('POST', `/admin/tasks/${taskId}/cancel`);
    await expectByte(await onenet(s, id).download(t, 'bytes=0-9'), '1');
  });

  it('1: the task already succeeded', async () => {
    const id = String(n++);
    const dev = onenet(s, id);
    const t = await dev.token();
    await dev.step(t, 101);
    await dev.step(t, 201);
    await expectByte(await dev.download(t), '1');
  });

  it('2: the package was republished to another size after the token was issued; check then issues a new token', async () => {
    const srv = await start();
    try {
      const id = '522730000';
      const dev = onenet(srv, id);
      const t = await dev.token();
      const rep = await srv.admin('POST', '/admin/packages/app-v2-full/republish', { size: 1000 });
      expect(rep.status).toBe(200);
      await expectByte(await dev.download(t, 'bytes=0-9'), '2');
      const again = await dev.check();
      expect(again.json.data.size).toBe(1000);
      expect(again.json.data.token).not.toBe(t);
      expect((await dev.download(again.json.data.token)).body.length).toBe(1000);
    } finally {
      await srv.close();
    }
  });
});
