/** The `stale-task-after-success` bug: off, a finished device is told there is nothing to do; on, it is offered the task again. */
import { afterEach, describe, expect, it } from 'vitest';
import type { BugName } from '../../src/server/index.js';
import { luatQuery, onenet, start, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
async function server(bugs: BugName[]): Promise<TestServer> {
  const s = await start({ bugs });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('stale-task-after-success', () => {
  it('OneNET: after the 201, check answers 11 without the bug and the same task (token, target) with it', async () => {
    for (const bugs of [[], ['stale-task-after-success']] as BugName[][]) {
      const s = await server(bugs);
      const dev = onenet(s, '522700001');
      const first = (await dev.check()).json.data;
      await dev.tokenCheck(first.token);
      await dev.step(first.token, 101);
      expect((await dev.report(first.token, 201)).json.errno).toBe(0);
      const again = (await dev.check({ version: first.target })).json;
      if (bugs.length === 0) {
        expect(again.errno).toBe(11);
      } else {
        expect(again.errno).toBe(0);
        expect(again.data).toMatchObject({ token: first.token, target: first.target });
        // The task stays succeeded: the bug only answers, it does not reopen the task.
        expect(await dev.state()).toBe('succeeded');
      }
    }
  });

  it('Luat: a device asking with the newest version gets 27 without the bug and the file of that version with it', async () => {
    const plain = await server([]);
    const buggy = await server(['stale-task-after-success']);
    const q = luatQuery({ imei: '866714040000002', version: '1.3.2' });
    expect((await plain.get(q)).json.code).toBe(27);
    const r = await buggy.get(q);
    expect(r.status).toBe(200);
    expect(r.headers['x-firmware-version']).toBe('1.3.2');
  });
});
