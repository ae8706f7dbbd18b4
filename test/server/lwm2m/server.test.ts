import { describe, expect, it } from 'vitest';
import { COMMAND_HISTORY } from '../../../src/server/lwm2m/server.js';
import { FakeWorld, isObserve, pathOf } from './fake.js';

const EP = 'lwm2m-000001';
const OUTSIDE = 'other-ep';

describe('the registration interface', () => {
  it('Register → 2.01 with Location-Path rd/{id}; Update → 2.04; De-register → 2.02; then 4.04', () => {
    const w = new FakeWorld();
    const ack = w.request('0.02', ['rd'], [`ep=${OUTSIDE}`, 'lt=300', 'lwm2m=1.1', 'b=UQ']);
    expect(ack.code).toBe('2.01');
    const loc = ack.options.filter((o) => o.name === 'Location-Path').map((o) => o.value.toString());
    expect(loc[0]).toBe('rd');
    const id = loc[1] as string;
    expect(w.request('0.02', ['rd', id]).code).toBe('2.04');
    expect(w.device(OUTSIDE).updates).toBe(1);
    expect(w.request('0.04', ['rd', id]).code).toBe('2.02');
    expect(w.request('0.02', ['rd', id]).code).toBe('4.04');
    expect(w.request('0.02', ['rd', 'nope']).code).toBe('4.04');
  });

  it('refuses a Register without ep or with a bad lifetime or binding (4.00), and GET on /rd (4.05)', () => {
    const w = new FakeWorld();
    expect(w.request('0.02', ['rd'], ['lt=60']).code).toBe('4.00');
    expect(w.request('0.02', ['rd'], ['ep=x', 'lt=abc']).code).toBe('4.00');
    expect(w.request('0.02', ['rd'], ['ep=x', 'b=T']).code).toBe('4.00');
    expect(w.request('0.01', ['rd']).code).toBe('4.05');
  });

  it('a registration lapses after its lifetime unless updated', () => {
    const w = new FakeWorld();
    const id = w.register(OUTSIDE, 'UQ', 60);
    w.advance(50_000);
    expect(w.request('0.02', ['rd', id]).code).toBe('2.04');
    w.advance(59_000);
    expect(w.request('0.02', ['rd', id]).code).toBe('2.04');
    w.advance(60_001);
    expect(w.request('0.02', ['rd', id]).code).toBe('4.04');
    expect(w.device(OUTSIDE).expiries).toBe(1);
    // A new Register gives a new id; the old one stays dead.
    const again = w.register(OUTSIDE, 'UQ', 60);
    expect(again).not.toBe(id);
    expect(w.request('0.02', ['rd', id]).code).toBe('4.04');
  });
});

describe('the downlink queue and the retransmit schedule (fake clock)', () => {
  it('sends on Register, retransmits the same message at 10 / 30 / 70 s (Huawei, u = 0), TIMEOUT at 80 s', () => {
    const w = new FakeWorld({ u: 0 });
    const t0 = w.now;
    w.register(EP);
    const first = w.since(0);
    expect(first).toHaveLength(1);
    const m = first[0]!.msg;
    expect(m.confirmable).toBe(true);
    expect(pathOf(m)).toBe('/5/0/3');
    expect(isObserve(m)).toBe(true);
    w.advance(200_000);
    const times = w.sent.map((s) => s.t - t0);
    expect(times).toEqual([0, 10_000, 30_000, 70_000]);
    expect(new Set(w.sent.map((s) => s.msg.messageId)).size).toBe(1);
    const cmd = w.device(EP).commands[0]!;
    expect(cmd.state).toBe('TIMEOUT');
    expect(cmd.finishedAt! - t0).toBe(80_000);
  });

  it('a De-register cancels the CON the device left unacknowledged: no more retransmissions to an address it has left', () => {
    const w = new FakeWorld({ u: 0 });
    const t0 = w.now;
    const id = w.register(EP);
    w.advance(15_000); // sent at 0, resent at 10 s, unanswered
    expect(w.sent.map((x) => x.t - t0)).toEqual([0, 10_000]);
    expect(w.request('0.04', ['rd', id]).code).toBe('2.02');
    const before = w.sent.length;
    w.advance(200_000);
    expect(w.sent.length).toBe(before);
    const cmd = w.device(EP).commands[0]!;
    expect([cmd.state, cmd.code]).toEqual(['CANCELED', 'de-registered']);
  });

  it('RFC 7252 schedule when the catalog asks for it: T, 3T, 7T, 15T, give-up at 31T', () => {
    const w = new FakeWorld({ u: 0, section: { schedule: 'rfc7252' } });
    const t0 = w.now;
    w.register(EP);
    w.advance(120_000);
    expect(w.sent.map((s) => s.t - t0)).toEqual([0, 2_000, 6_000, 14_000, 30_000]);
    expect(w.device(EP).commands[0]!.finishedAt! - t0).toBe(62_000);
  });

  it('holds commands for a sleeping queue-mode device (PENDING) and sends them on its Update', () => {
    const w = new FakeWorld({ section: { campaigns: [] } });
    const id = w.register(EP, 'UQ');
    expect(w.sent).toHaveLength(0);
    w.advance(100_000); // past the 93 s awake window
    w.server.addCampaign({ endpoints: 'lwm2m-{000000..000009}', package: 'lwm2m-fw-2', delivery: 'coap', observe: true });
    expect(w.sent).toHaveLength(0);
    expect(w.device(EP).commands.map((c) => c.state)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    w.advance(3_600_000);
    expect(w.sent).toHaveLength(0);
    w.request('0.02', ['rd', id]);
    expect(w.sent).toHaveLength(1);
    expect(w.device(EP).commands[0]!.state).toBe('SENT');
  });

  it('the awake window comes from the catalog (awakeSec), 93 s by default', () => {
    const w = new FakeWorld({ section: { campaigns: [], awakeSec: 20 } });
    w.register(EP, 'UQ');
    w.advance(21_000);
    w.server.addCampaign({ endpoints: EP, package: 'lwm2m-fw-2', delivery: 'coap', observe: true });
    expect(w.sent).toHaveLength(0);
    const v = new FakeWorld({ section: { campaigns: [] } });
    v.register(EP, 'UQ');
    v.advance(92_000);
    v.server.addCampaign({ endpoints: EP, package: 'lwm2m-fw-2', delivery: 'coap', observe: true });
    expect(v.sent).toHaveLength(1);
  });

  it('a binding-U device is reached at any time while registered', () => {
    const w = new FakeWorld({ section: { campaigns: [] } });
    w.register(EP, 'U');
    w.advance(1_000_000);
    w.server.addCampaign({ endpoints: EP, package: 'lwm2m-fw-2', delivery: 'coap', observe: true });
    expect(w.sent).toHaveLength(1);
  });

  it('bug lwm2m-no-queue: sends to the sleeping device at once, and does not issue the lost command again', () => {
    const w = new FakeWorld({ section: { campaigns: [] }, bugs: ['lwm2m-no-queue'] });
    const id = w.register(EP, 'UQ');
    w.advance(100_000);
    w.server.addCampaign({ endpoints: EP, package: 'lwm2m-fw-2', delivery: 'coap', observe: true });
    expect(w.sent).toHaveLength(1);
    w.advance(400_000);
    // All three commands went out to the sleeper and timed out.
    expect(w.device(EP).commands.map((c) => c.state)).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
    const before = w.sent.length;
    w.request('0.02', ['rd', id]);
    expect(w.sent.length).toBe(before);
    expect(w.device(EP).commands).toHaveLength(3);
  });

  it('a healthy server issues a timed-out command again on the next wake', () => {
    const w = new FakeWorld();
    const id = w.register(EP, 'UQ');
    w.advance(200_000);
    expect(w.device(EP).commands[0]!.state).toBe('TIMEOUT');
    const before = w.sent.length;
    w.request('0.02', ['rd', id]);
    expect(w.sent.length).toBe(before + 1);
    // The queue goes on (Observe /5/0/5 first), and the lost Observe /5/0/3 is queued again.
    expect(pathOf(w.lastSent())).toBe('/5/0/5');
    const again = w.device(EP).commands.filter((c) => c.path === '/5/0/3').map((c) => c.state);
    expect(again).toEqual(['TIMEOUT', 'PENDING']);
  });

  it('bug lwm2m-retransmit-early: the first resend comes 5 s after, below the 10 s window', () => {
    const w = new FakeWorld({ u: 0, bugs: ['lwm2m-retransmit-early'] });
    const t0 = w.now;
    w.register(EP);
    w.advance(11_000);
    expect(w.sent.map((s) => s.t - t0)).toEqual([0, 5_000]);
  });

  it('bug lwm2m-give-up-early: TIMEOUT at 40 s, before the 80 s window', () => {
    const w = new FakeWorld({ u: 0, bugs: ['lwm2m-give-up-early'] });
    const t0 = w.now;
    w.register(EP);
    w.advance(45_000);
    const cmd = w.device(EP).commands[0]!;
    expect(cmd.state).toBe('TIMEOUT');
    expect(cmd.finishedAt! - t0).toBe(40_000);
  });

  it('EXPIRED: a command held past commandTtlSec', () => {
    const w = new FakeWorld({ section: { campaigns: [], commandTtlSec: 3600 } });
    const id = w.register(EP, 'UQ');
    w.advance(100_000);
    w.server.addCampaign({ endpoints: EP, package: 'lwm2m-fw-2', delivery: 'coap', observe: true });
    w.advance(3_600_001);
    w.request('0.02', ['rd', id]);
    const states = w.device(EP).commands.map((c) => c.state);
    expect(states.slice(0, 3)).toEqual(['EXPIRED', 'EXPIRED', 'EXPIRED']);
    expect(w.server.commandCounts().EXPIRED).toBe(3);
  });

  it('counts an ACK after the give-up as late and changes nothing', () => {
    const w = new FakeWorld();
    w.register(EP);
    const m = w.lastSent();
    w.advance(200_000);
    w.ack(m, '2.05', '0', 1);
    expect(w.device(EP).commands[0]!.state).toBe('TIMEOUT');
    expect(w.server.counters.lateAcks).toBe(1);
  });
});

describe('command states and the Object 5 campaign', () => {
  it('runs the update: observe, write URI, State 2 → Execute, re-register, Update Result 1 → succeeded', () => {
    const w = new FakeWorld();
    w.register(EP);
    const obsState = w.lastSent();
    w.ack(obsState, '2.05', '0', 1);
    const d = w.device(EP);
    expect(d.commands[0]!.state).toBe('SUCCESSFUL');
    expect(d.firmware.state).toBe(0);
    const obsResult = w.lastSent();
    expect(pathOf(obsResult)).toBe('/5/0/5');
    w.ack(obsResult, '2.05', '0', 1);
    const write = w.lastSent();
    expect(pathOf(write)).toBe('/5/0/1');
    expect(write.code).toBe('0.03');
    expect(write.payload.toString()).toBe('coap://127.0.0.1:5683/fw/lwm2m-fw-2');
    // Empty ACK first (DELIVERED), the separate response later (SUCCESSFUL).
    w.ack(write);
    expect(d.commands[2]!.state).toBe('DELIVERED');
    const ackOfResponse = w.server.onResponse({ ...write, code: '2.04', confirmable: true, ack: false, messageId: 999, payload: Buffer.alloc(0), options: [] });
    expect(ackOfResponse).toBeDefined();
    expect(d.commands[2]!.state).toBe('SUCCESSFUL');
    expect(d.firmware.phase).toBe('uri-written');
    // Downloading, then Downloaded: the server executes Update.
    w.notify(obsState.token, '1', 2);
    expect(d.firmware.state).toBe(1);
    const ackNotif = w.notify(obsState.token, '2', 3, true);
    expect(ackNotif?.ack).toBe(true);
    expect(d.firmware.phase).toBe('downloaded');
    const exec = w.lastSent();
    expect(pathOf(exec)).toBe('/5/0/2');
    expect(exec.code).toBe('0.02');
    w.ack(exec, '2.04');
    expect(d.firmware.phase).toBe('executed');
    // The device reboots into the new firmware and registers again: the server re-observes.
    w.register(EP);
    const reobs = w.lastSent();
    expect(pathOf(reobs)).toBe('/5/0/3');
    w.ack(reobs, '2.05', '0', 1);
    const reobsResult = w.lastSent();
    w.ack(reobsResult, '2.05', '1', 1);
    expect(d.firmware.updateResult).toBe(1);
    expect(d.firmware.phase).toBe('succeeded');
    // No second download after success.
    const before = w.sent.length;
    w.register(EP);
    expect(w.sent.length).toBe(before);
    expect(w.server.commandCounts().PENDING).toBe(0);
  });

  it('FAILED on an error answer; a failure result (5) fails the campaign for the device', () => {
    const w = new FakeWorld({ section: { campaigns: [{ endpoints: EP, package: 'lwm2m-fw-2', delivery: 'coap', observe: false }] } });
    w.register(EP, 'U');
    const write = w.lastSent();
    expect(pathOf(write)).toBe('/5/0/1');
    w.ack(write, '4.05');
    const d = w.device(EP);
    expect(d.commands[0]!.state).toBe('FAILED');
    expect(d.commands[0]!.code).toBe('4.05');
    expect(d.firmware.phase).toBe('none');
    // Register again: the write is retried, accepted; reads of State and Result follow on the next wake.
    w.register(EP, 'U');
    w.ack(w.lastSent(), '2.04');
    expect(d.firmware.phase).toBe('uri-written');
    w.register(EP, 'U');
    const reads = w.since(w.sent.length - 1);
    expect(pathOf(reads[0]!.msg)).toBe('/5/0/3');
    expect(isObserve(reads[0]!.msg)).toBe(false);
    w.ack(w.lastSent(), '2.05', '0');
    w.ack(w.lastSent(), '2.05', '5');
    expect(d.firmware.updateResult).toBe(5);
    expect(d.firmware.phase).toBe('failed');
  });

  it('a lost NON notification of State 2 does not stall the campaign: the device\'s next Update brings a read of State, then Execute', () => {
    const w = new FakeWorld();
    const id = w.register(EP, 'UQ');
    w.ack(w.lastSent(), '2.05', '0', 1);
    w.ack(w.lastSent(), '2.05', '0', 1);
    w.ack(w.lastSent(), '2.04');
    const d = w.device(EP);
    expect(d.firmware.phase).toBe('uri-written');
    // The device downloads, reaches State 2 and notifies it (NON): the datagram is lost. It sleeps.
    w.advance(3_600_000);
    const before = w.sent.length;
    w.request('0.02', ['rd', id]);
    const read = w.sent[before]!.msg;
    expect([pathOf(read), isObserve(read), read.code]).toEqual(['/5/0/3', false, '0.01']);
    expect(w.sent.length).toBe(before + 1);
    w.ack(read, '2.05', '2');
    expect(d.firmware.phase).toBe('downloaded');
    expect(pathOf(w.lastSent())).toBe('/5/0/2');
    // Once State is known (phase downloaded, executed, succeeded), an Update brings no extra read.
    w.ack(w.lastSent(), '2.04');
    const afterExecute = w.sent.length;
    w.request('0.02', ['rd', id]);
    expect(w.sent.length).toBe(afterExecute);
  });

  it('an Observe answered without the Observe option was a read: the server asks again on the next wake', () => {
    const w = new FakeWorld();
    const id = w.register(EP, 'UQ');
    w.ack(w.lastSent(), '2.05', '0');
    w.ack(w.lastSent(), '2.05', '0');
    w.ack(w.lastSent(), '2.04');
    const d = w.device(EP);
    expect(d.firmware.phase).toBe('uri-written');
    expect(d.commands.every((c) => !c.observing)).toBe(true);
    const before = w.sent.length;
    w.request('0.02', ['rd', id]);
    expect(pathOf(w.sent[before]!.msg)).toBe('/5/0/3');
    w.ack(w.lastSent(), '2.05', '2');
    expect(d.firmware.phase).toBe('downloaded');
  });

  it('keeps at most COMMAND_HISTORY commands per device, forgetting the oldest finished ones', () => {
    const w = new FakeWorld({ section: { campaigns: [{ endpoints: EP, package: 'lwm2m-fw-2', delivery: 'coap', observe: false }] } });
    const id = w.register(EP, 'U');
    w.ack(w.lastSent(), '2.04');
    for (let wake = 0; wake < 60; wake++) {
      w.request('0.02', ['rd', id]);
      w.ack(w.lastSent(), '2.05', '1');
      w.ack(w.lastSent(), '2.05', '0');
    }
    const d = w.device(EP);
    expect(d.commands.length).toBeLessThanOrEqual(COMMAND_HISTORY);
    expect(d.commands[d.commands.length - 1]!.state).toBe('SUCCESSFUL');
  });

  it('a RST fails the command; an unknown notification token is answered RST', () => {
    const w = new FakeWorld();
    w.register(EP);
    const m = w.lastSent();
    w.server.onAckOrReset({ ...m, reset: true, confirmable: false, code: '0.00', token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });
    expect(w.device(EP).commands[0]!.state).toBe('FAILED');
    const rst = w.notify(Buffer.from('dead', 'hex'), '1', 1, true);
    expect(rst?.reset).toBe(true);
  });

  it('sends to the address the device last spoke from (NAT rebinding after a sleep)', () => {
    const w = new FakeWorld();
    const id = w.register(EP, 'UQ');
    w.advance(200_000);
    w.request('0.02', ['rd', id], [], Buffer.alloc(0), { address: '127.0.0.1', port: 40999 });
    expect(w.sent[w.sent.length - 1]!.peer.port).toBe(40999);
  });
});
