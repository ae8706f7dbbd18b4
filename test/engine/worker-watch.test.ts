import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PROGRESS_FIELDS, ProgressField } from '../../src/engine/progress.js';
import { parseTestFault } from '../../src/engine/test-fault.js';
import { describeLoss, lostShards, shardSize, superviseShards, WorkerWatch } from '../../src/engine/worker-watch.js';

/** A task that runs until aborted (then rejects, as piscina does when it terminates the thread). */
const untilAborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('The task has been aborted')), { once: true }));

describe('superviseShards', () => {
  it('keeps results, reports a rejection as died, and terminates a silent worker as hung', async () => {
    const watch = new WorkerWatch(3);
    // Worker 0 keeps posting (alive); worker 2 never posts after its start.
    const alive = new MessageChannel();
    watch.listen(0, alive.port1);
    const beat = setInterval(() => alive.port2.postMessage({ worker: 0, metrics: { operations: {} }, states: {} }), 20);
    const aborted: number[] = [];
    try {
      const settled = await superviseShards(
        [
          (signal) => new Promise<string>((resolve, reject) => {
            const t = setTimeout(() => resolve('done'), 400);
            signal.addEventListener('abort', () => (clearTimeout(t), aborted.push(0), reject(new Error('aborted'))));
          }),
          () => Promise.reject(new Error('worker exited with code 70\nstack line')),
          (signal) => {
            signal.addEventListener('abort', () => aborted.push(2));
            return untilAborted(signal);
          },
        ],
        watch,
        { stopFlag: new Int32Array(1), graceMs: 5_000, silentMs: 150, tickMs: 10 },
      );
      expect(settled[0]).toEqual({ worker: 0, status: 'fulfilled', value: 'done' });
      expect(settled[1]).toEqual({ worker: 1, status: 'lost', loss: { kind: 'died', message: 'worker exited with code 70' } });
      expect(settled[2]).toMatchObject({ worker: 2, status: 'lost', loss: { kind: 'hung' } });
      expect((settled[2] as { loss: { silentMs: number } }).loss.silentMs).toBeGreaterThan(150);
      expect(aborted).toEqual([2]);
    } finally {
      clearInterval(beat);
      alive.port1.close();
    }
  });

  it('terminates a worker still running a grace period after the stop, keeping the others', async () => {
    const stopFlag = new Int32Array(1);
    let now = 0;
    const watch = new WorkerWatch(2, () => now);
    const stopping = superviseShards(
      [(signal) => new Promise<number>((resolve) => signal.addEventListener('abort', () => resolve(-1))), untilAborted],
      watch,
      { stopFlag, graceMs: 1_000, silentMs: 1e9, tickMs: 5, now: () => now },
    );
    Atomics.store(stopFlag, 0, 1);
    for (let i = 0; i < 50; i++) {
      now += 100;
      await new Promise((r) => setTimeout(r, 6));
    }
    const settled = await stopping;
    // Worker 0 answered its abort with a value, but it was terminated: its result is not a result.
    expect(settled.map((s) => s.status)).toEqual(['lost', 'lost']);
    expect(settled[1]).toMatchObject({ status: 'lost', loss: { kind: 'no-stop', graceMs: 1_000 } });
  });

  it('gives up a task that never settles after its abort, so the run ends', async () => {
    let now = 0;
    const settled = superviseShards([() => new Promise<never>(() => {})], new WorkerWatch(1, () => now), {
      stopFlag: new Int32Array(1),
      graceMs: 100,
      silentMs: 100,
      tickMs: 5,
      now: () => now,
    });
    for (let i = 0; i < 20; i++) {
      now += 30;
      await new Promise((r) => setTimeout(r, 6));
    }
    expect((await settled)[0]).toMatchObject({ status: 'lost', loss: { kind: 'hung' } });
  });
});

describe('lost shards', () => {
  it('counts the lost worker\'s devices and the requests it had made, and says so in one line', () => {
    expect([0, 1, 2].map((w) => shardSize(10, 3, w))).toEqual([4, 3, 3]);
    const progress = new Int32Array(3 * PROGRESS_FIELDS);
    progress[1 * PROGRESS_FIELDS + ProgressField.started] = 2;
    progress[1 * PROGRESS_FIELDS + ProgressField.requests] = 9;
    const watch = new WorkerWatch(3);
    const lost = lostShards(
      [
        { worker: 0, status: 'fulfilled', value: 1 },
        { worker: 1, status: 'lost', loss: { kind: 'hung', silentMs: 61_000 } },
        { worker: 2, status: 'lost', loss: { kind: 'died', message: 'boom' } },
      ],
      watch,
      progress,
      10,
      3,
    );
    expect(lost.map((l) => [l.worker, l.devices, l.started, l.requests])).toEqual([
      [1, 3, 2, 9],
      [2, 3, 0, 0],
    ]);
    expect(describeLoss(lost[0]!)).toBe(
      'worker 1 hung (silent for 1m 1s) and was terminated: its 3 devices (2 started) are reported lost-with-worker; of its 9 requests, 0 are kept with their latencies (those before its last live post)',
    );
    expect(describeLoss(lost[1]!)).toBe('worker 2 failed: boom: its 3 devices (0 started) are reported lost-with-worker; it had made no request');
  });

  it('reads the test hook, and refuses a malformed one', () => {
    expect(parseTestFault(undefined)).toBeUndefined();
    expect(parseTestFault('hang@1+2500')).toEqual({ kind: 'hang', worker: 1, afterMs: 2500 });
    expect(parseTestFault('exit@0')).toEqual({ kind: 'exit', worker: 0, afterMs: 0 });
    expect(() => parseTestFault('melt@1')).toThrow(/OTA_SWARM_TEST_WORKER_FAULT/);
  });
});
