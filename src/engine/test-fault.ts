/**
 * A worker failure on purpose, for the tests of what a run does when a worker is lost
 * (worker-watch.ts). `OTA_SWARM_TEST_WORKER_FAULT=KIND@WORKER+MS` makes worker WORKER, MS real ms
 * into its shard: `throw` (an uncaught exception: the thread dies), `exit` (process.exit in the
 * thread), `hang` (a loop that never yields). Read once per shard; unset, it costs one lookup.
 */

export type InjectedFault = 'throw' | 'exit' | 'hang';

export const TEST_FAULT_ENV = 'OTA_SWARM_TEST_WORKER_FAULT';

export function parseTestFault(text: string | undefined): { kind: InjectedFault; worker: number; afterMs: number } | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^(throw|exit|hang)@(\d+)(?:\+(\d+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`${TEST_FAULT_ENV}: "${text}" is not KIND@WORKER+MS (KIND: throw, exit or hang)`);
  return { kind: m[1] as InjectedFault, worker: Number(m[2]), afterMs: Number(m[3] ?? 0) };
}

/** Arms the fault for this worker, if the environment asks for one; returns its disarm. */
export function armTestFault(workerIndex: number): () => void {
  const fault = parseTestFault(process.env[TEST_FAULT_ENV]);
  if (fault === undefined || fault.worker !== workerIndex) return () => {};
  const timer = setTimeout(() => {
    switch (fault.kind) {
      case 'throw':
        throw new Error(`injected fault: worker ${workerIndex} threw`);
      case 'exit':
        process.exit(70);
        break;
      case 'hang':
        for (;;) {
          // Never yields: neither live posts nor the task's end get out.
        }
    }
  }, fault.afterMs);
  return () => clearTimeout(timer);
}
