/**
 * libcoap's coap-server (Debian libcoap3-bin, an independent CoAP implementation) as the peer:
 * the device's Block1 upload and Block2 download of a 256 KiB file over loopback, at 0% and at
 * 5% loss of the server's datagrams (its `-l` option). The download must finish with the file's
 * md5 within a bound derived from the RFC 7252 timers the device uses; a stalled download fails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { freeUdpPort } from './free-port.js';
import { CoapClient, realClock } from '../../src/engine/coap-client.js';
import { pathOptions } from '../../src/coap/message.js';
import { exchangeLifetimeMs, szxOf } from '../../src/protocol/coap.js';
import type { RetransmitSettings } from '../../src/device/types.js';

const SERVER = '/usr/bin/coap-server-notls';
const FILE = randomBytes(256 * 1024);
const MD5 = createHash('md5').update(FILE).digest('hex');
const BLOCK = 1024;
const BLOCKS = FILE.length / BLOCK;
/** RFC 7252's timers, 20× faster so the test stays short: ACK_TIMEOUT 100 ms, factor 1.5, MAX_RETRANSMIT 4. */
const TIMING: RetransmitSettings = { ackTimeoutMs: 100, randomFactor: 1.5, maxRetransmit: 4 };
/** Loopback round trip allowed per block on a loaded 2-core machine. */
const RTT_ALLOWANCE_MS = 60;

/**
 * The longest a transfer of `blocks` exchanges may take at loss `p`: each exchange its round trip,
 * and a budget of lost answers (mean + 6σ + 2) each costing up to a lost first and second
 * transmission (timeouts T + 2T, T = ACK_TIMEOUT × ACK_RANDOM_FACTOR).
 */
function boundMs(blocks: number, p: number): number {
  const mean = blocks * p;
  const losses = Math.ceil(mean + 6 * Math.sqrt(mean * (1 - p)) + 2);
  return blocks * RTT_ALLOWANCE_MS + losses * 3 * TIMING.ackTimeoutMs * TIMING.randomFactor;
}

const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill('SIGTERM');
});

async function startServer(lossPercent: number): Promise<number> {
  const port = await freeUdpPort();
  const child = spawn(SERVER, ['-A', '127.0.0.1', '-p', String(port), '-d', '4', '-v', '0', ...(lossPercent > 0 ? ['-l', `${lossPercent}%`] : [])], { stdio: 'ignore' });
  servers.push(child);
  // Ready when it answers: a GET of /.well-known/core (retransmitted under loss like any CON).
  const probe = client(port);
  try {
    for (let i = 0; i < 50; i++) {
      const x = await probe.request({ code: '0.01', options: pathOptions('/.well-known/core') });
      if (x.kind === 'response') return port;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    probe.close();
  }
  throw new Error(`coap-server on ${port} never answered`);
}

const client = (port: number, seed = 1): CoapClient =>
  new CoapClient({ host: '127.0.0.1', port }, { timing: TIMING, seed, exchangeLifetimeMs: exchangeLifetimeMs(TIMING) }, realClock);

async function withinBound<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} stalled: not done within ${ms} ms (the bound from the RFC timers)`)), ms);
  });
  try {
    return await Promise.race([work, stall]);
  } finally {
    clearTimeout(timer);
  }
}

/** Uploads tried before the test gives up on getting the whole file onto the server (see uploadOnce). */
const UPLOAD_TRIES = 4;

/**
 * Uploads FILE until its last block went through on its first transmission. libcoap 4.3.1 does
 * not deduplicate a retransmitted last Block1 block (RFC 7252 §4.5 says it SHOULD process it only
 * once): when its 2.04 to the last block is lost, the device's retransmission is taken as a new
 * one-block body and the 256 KiB resource becomes that block's 1024 bytes, which a correct
 * download then returns (Block2 NUM=0 M=0, no Size2). At 5% loss that is one run in twenty; each
 * new try is another 5%, so four leave a chance of 6e-6. Retransmissions of earlier blocks are
 * harmless (libcoap still holds the partial body) and stay in.
 */
async function uploadOnce(c: CoapClient, path: ReturnType<typeof pathOptions>, szx: number): Promise<Awaited<ReturnType<CoapClient['upload']>>> {
  let up = await c.upload(path, FILE, szx);
  for (let tries = 1; tries < UPLOAD_TRIES && up.ok && up.lastBlockTransmissions !== 1; tries++) up = await c.upload(path, FILE, szx);
  return up;
}

describe.skipIf(!existsSync(SERVER))('Block-wise transfer against libcoap coap-server', () => {
  for (const loss of [0, 5]) {
    it(`uploads (Block1) and downloads (Block2) 256 KiB at ${loss}% loss: md5 matches within the bound`, async () => {
      const port = await startServer(loss);
      const c = client(port, 100 + loss);
      try {
        const path = pathOptions('/fw');
        const bound = boundMs(BLOCKS, loss / 100);
        const up = await withinBound(uploadOnce(c, path, szxOf(BLOCK)), bound * UPLOAD_TRIES, 'Block1 upload');
        expect(up.reason).toBeUndefined();
        expect(up.ok).toBe(true);
        expect(up.lastBlockTransmissions).toBe(1);
        const started = performance.now();
        const down = await withinBound(c.download(path, szxOf(BLOCK)), bound, 'Block2 download');
        const took = performance.now() - started;
        expect(down.reason).toBeUndefined();
        expect(down.ok).toBe(true);
        expect(down.bytes).toBe(FILE.length);
        expect(down.md5).toBe(MD5);
        expect(took).toBeLessThan(bound);
        if (loss === 0) expect(down.retransmissions).toBe(0);
        else expect(down.retransmissions).toBeGreaterThan(0); // the loss was real, and recovered from
        expect(c.ignored.filter((l) => l.startsWith('malformed'))).toEqual([]);
      } finally {
        c.close();
      }
    });
  }
});
