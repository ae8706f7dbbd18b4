import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/time/clock.js';
import { scheduleServerEvents } from '../../../src/verdicts/server-events.js';

describe('the campaign server event', () => {
  it('posts the campaign to /admin/lwm2m/campaigns and records it', async () => {
    const posts: { path: string; body: unknown }[] = [];
    const clock = new ManualClock(0);
    const run = scheduleServerEvents(
      [{ atMs: 0, action: 'campaign', endpoints: 'lwm2m-{000000..000009}', package: 'lwm2m-fw-2', observe: true }],
      { get: async () => ({}) as never, post: async (path, body) => (posts.push({ path, body }), {} as never) },
      { kind: 'clock', clock },
      0,
      () => {},
    );
    await new Promise((r) => setTimeout(r, 20));
    const applied = await run.settle();
    expect(posts).toEqual([{ path: '/admin/lwm2m/campaigns', body: { endpoints: 'lwm2m-{000000..000009}', package: 'lwm2m-fw-2', observe: true } }]);
    expect(applied[0]).toMatchObject({ action: 'campaign', package: 'lwm2m-fw-2' });
    expect(applied[0]?.error).toBeUndefined();
  });
});
