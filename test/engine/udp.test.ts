import { describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { checkFdLimit, fdShortfall, FD_HEADROOM, loopbackSourceOf, openFilesLimit, SOCKETS_PER_ADDRESS, UdpLink } from '../../src/engine/udp.js';
import { ConfigError } from '../../src/config/load.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 4096                 files
Max locked memory         8388608              8388608              bytes
`;

describe('the open-files limit, checked up front', () => {
  it('reads the soft limit of /proc/self/limits', () => {
    expect(openFilesLimit(LIMITS)).toBe(1024);
    expect(openFilesLimit(LIMITS.replace('1024 ', 'unlimited'))).toBeUndefined();
    expect(openFilesLimit('')).toBeUndefined();
  });

  it('refuses more sockets than fit, in one line naming the place and the fix', () => {
    expect(fdShortfall(1024 - FD_HEADROOM, 1024, 'x')).toBeUndefined();
    const msg = fdShortfall(5000, 1024, 'scenario.yaml: fleet.count')!;
    expect(msg).toMatch(/^scenario\.yaml: fleet\.count: 5000 devices need one UDP socket each .* limit is 1024; raise it \(ulimit -n 5064\)/);
    expect(msg).not.toContain('\n');
    const dir = mkdtempSync(join(tmpdir(), 'fd-'));
    writeFileSync(join(dir, 'limits'), LIMITS);
    expect(() => checkFdLimit(5000, '--devices', join(dir, 'limits'))).toThrow(ConfigError);
    expect(() => checkFdLimit(10, '--devices', join(dir, 'limits'))).not.toThrow();
    expect(() => checkFdLimit(1e9, '--devices', join(dir, 'absent'))).not.toThrow();
  });
});

describe('UdpLink', () => {
  it('gives each block of sockets a loopback source address of its own (one address has ~28,000 ports)', async () => {
    expect(loopbackSourceOf(1, 0)).toBe(loopbackSourceOf(1, SOCKETS_PER_ADDRESS - 1));
    expect(loopbackSourceOf(1, SOCKETS_PER_ADDRESS)).not.toBe(loopbackSourceOf(1, 0));
    expect(loopbackSourceOf(2, 0)).not.toBe(loopbackSourceOf(1, 0));
    expect(loopbackSourceOf(0xffffffff, 5_000_000)).toMatch(/^127\.\d{1,3}\.\d{1,3}\.1$/);
    const server = createSocket('udp4');
    let from = '';
    server.on('message', (_m, r) => (from = r.address));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const link = new UdpLink({ host: '127.0.0.1', port: server.address().port }, () => {}, undefined, loopbackSourceOf(9, SOCKETS_PER_ADDRESS * 3));
    link.send(Buffer.from('x'));
    for (let i = 0; i < 200 && from === ''; i++) await new Promise((r) => setTimeout(r, 5));
    expect(from).toBe('127.10.3.1');
    link.close();
    server.close();
  });

  it('one socket per device; rebinding (NAT after a long sleep) sends from a new source port', async () => {
    const server = createSocket('udp4');
    const from: number[] = [];
    server.on('message', (msg, r) => {
      from.push(r.port);
      server.send(msg, r.port, r.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const echoes: string[] = [];
    const link = new UdpLink({ host: '127.0.0.1', port: server.address().port }, (b) => echoes.push(b.toString()));
    const waitFor = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && echoes.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    };
    link.send(Buffer.from('a'));
    await waitFor(1);
    const first = link.localPort();
    link.rebind();
    link.send(Buffer.from('b'));
    await waitFor(2);
    expect(echoes).toEqual(['a', 'b']);
    expect(from[0]).toBe(first);
    expect(from[1]).not.toBe(from[0]);
    expect(link.sent).toBe(2);
    expect(link.received).toBe(2);
    link.close();
    server.close();
  });

  it('a datagram sent just before the link lets go of its socket still leaves (the last ACK before a sleep)', async () => {
    const server = createSocket('udp4');
    const got: string[] = [];
    server.on('message', (msg) => got.push(msg.toString()));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const link = new UdpLink({ host: '127.0.0.1', port: server.address().port }, () => {});
    link.send(Buffer.from('first'));
    link.rebind(); // node resolves the address before it sends: closing at once would drop 'first'
    link.send(Buffer.from('second'));
    link.close(); // the same for 'second'
    for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(got.sort()).toEqual(['first', 'second']);
    link.send(Buffer.from('after close'));
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toHaveLength(2);
    expect(link.sent).toBe(2);
    server.close();
  });

  it('a socket that cannot send says so with its errno code (as EMFILE would), never silently', async () => {
    const codes: string[] = [];
    const link = new UdpLink({ host: '127.0.0.1', port: 9 }, () => {}, (code) => codes.push(code));
    link.send(Buffer.alloc(70_000)); // over a UDP datagram's 65,507 bytes
    for (let i = 0; i < 200 && codes.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(codes).toEqual(['EMSGSIZE']);
    link.close();
  });
});

