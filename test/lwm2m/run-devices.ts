/**
 * Runs LwM2M devices over the real CoAP transport on the real clock (virtual = real ms), without
 * the engine: each device's machine, its wire and the transport, until every device stops or
 * the deadline passes. For tests against external servers; the engine does this in a run.
 */
import { lwm2mMachine } from '../../src/device/lwm2m/machine.js';
import type { Lwm2mAnswer, Lwm2mRequest, Lwm2mState } from '../../src/device/lwm2m/types.js';
import { decodeLwm2m, encodeLwm2m } from '../../src/dialect/lwm2m/wire.js';
import { CoapTransport } from '../../src/engine/coap-transport.js';
import type { DeviceProfile, DeviceSettings, Step } from '../../src/device/types.js';
import type { SeenMessage } from '../../src/dialect/coap.js';

export interface DeviceRun {
  readonly final: Lwm2mState | undefined;
  readonly requests: Lwm2mRequest[];
  readonly answers: Lwm2mAnswer[];
  readonly seen: SeenMessage[];
}

export async function runDevices(
  profiles: readonly DeviceProfile[],
  settings: DeviceSettings,
  server: { host: string; port: number },
  deadlineMs: number,
): Promise<{ runs: DeviceRun[]; transport: CoapTransport }> {
  const transport = new CoapTransport({
    server,
    timing: settings.retransmit,
    now: () => performance.now(),
    realMsUntil: (v) => Math.max(0, v - performance.now()),
    seenCompleteAfterMs: 60_000,
    seed: 1,
    isAllowedHost: (h) => h === '127.0.0.1' || h === '::1' || h === 'localhost',
  });
  const end = performance.now() + deadlineMs;
  const one = async (slot: number, p: DeviceProfile): Promise<DeviceRun> => {
    const requests: Lwm2mRequest[] = [];
    const answers: Lwm2mAnswer[] = [];
    const seen: SeenMessage[] = [];
    let step: Step<Lwm2mState, Lwm2mRequest> = lwm2mMachine.start(p, settings, performance.now());
    while (performance.now() < end) {
      const a = step.action;
      if (a.type === 'stop') break;
      if (a.type === 'sleep') {
        await new Promise((r) => setTimeout(r, Math.max(0, a.until - performance.now())));
        step = lwm2mMachine.onTimer(step.state, p, settings, performance.now());
        continue;
      }
      requests.push(a.request);
      const x = await transport.exchange(slot, encodeLwm2m(a.request), { timeoutMs: settings.requestTimeoutMs, paceMs: 0 });
      const answer = decodeLwm2m(a.request, x.result);
      answers.push(answer);
      if (answer.seen !== undefined) seen.push(...answer.seen);
      step = lwm2mMachine.onAnswer(step.state, answer, p, settings, performance.now());
    }
    transport.release(slot);
    return { final: step.action.type === 'stop' ? step.state : undefined, requests, answers, seen };
  };
  const runs = await Promise.all(profiles.map((p, i) => one(i, p)));
  await transport.close();
  return { runs, transport };
}
