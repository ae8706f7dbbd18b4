/**
 * The UDP side of the CoAP transport: one socket per device, since servers key a CoAP session
 * (and an LwM2M registration) on the peer's address and port. `rebind` is NAT rebinding after a
 * long sleep: the device's next datagram leaves from a new source port. Thin on purpose: what to
 * send and what a datagram means is the CoAP layer's (src/coap/).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/load.js';

export interface UdpPeer {
  readonly host: string;
  readonly port: number;
}

/** A socket, and how many of its sends node has not finished (it resolves the address first). */
interface OpenSocket {
  readonly socket: Socket;
  unsent: number;
  /** Dropped by the link: closed once its last send has left (closing under a send would lose it). */
  dropped: boolean;
}

export class UdpLink {
  private current: OpenSocket | undefined;
  private closed = false;
  /** Datagrams sent and received over the link's life (all its sockets). */
  sent = 0;
  received = 0;

  constructor(
    private readonly peer: UdpPeer,
    private readonly onDatagram: (bytes: Buffer) => void,
    /** A socket that cannot open, bind or send (EMFILE past the open-files limit, say): its errno code, and a line. */
    private readonly onError: (code: string, message: string) => void = () => {},
    /**
     * The local address to send from (a 127.x.y.z of its own): each address has its own ephemeral
     * ports, so a fleet of more sockets than one address's port range (~28,000) still gets one each.
     */
    private readonly localAddress?: string,
  ) {}

  private open(): OpenSocket {
    const s = createSocket(this.peer.host.includes(':') ? 'udp6' : 'udp4');
    // Sends made while it binds are queued by node until it is bound.
    if (this.localAddress !== undefined) s.bind(0, this.localAddress);
    s.on('message', (msg, rinfo) => {
      // Only the server's own address: a datagram from anyone else is no answer of the session.
      if (rinfo.port !== this.peer.port) return;
      this.received += 1;
      this.onDatagram(msg);
    });
    s.on('error', (e: NodeJS.ErrnoException) => this.onError(e.code ?? 'UDP_ERROR', `udp ${this.peer.host}:${this.peer.port}: ${e.message}`));
    return { socket: s, unsent: 0, dropped: false };
  }

  send(bytes: Buffer): void {
    if (this.closed) return;
    const open = (this.current ??= this.open());
    this.sent += 1;
    open.unsent += 1;
    open.socket.send(bytes, this.peer.port, this.peer.host, (e: NodeJS.ErrnoException | null) => {
      open.unsent -= 1;
      if (e) this.onError(e.code ?? 'UDP_ERROR', `udp ${this.peer.host}:${this.peer.port}: ${e.message}`);
      if (open.unsent === 0 && open.dropped) open.socket.close();
    });
  }

  /** The local port, once the first datagram went out (undefined before). */
  localPort(): number | undefined {
    try {
      return this.current?.socket.address().port;
    } catch {
      return undefined;
    }
  }

  /** Lets go of the current socket: closed now, or once what was sent on it has left (a device's last ACK before it sleeps). */
  private drop(): void {
    const open = this.current;
    this.current = undefined;
    if (open === undefined) return;
    open.dropped = true;
    if (open.unsent === 0) open.socket.close();
  }

  /** NAT rebinding: drop the socket; the next send opens one on a new source port. */
  rebind(): void {
    this.drop();
  }

  close(): void {
    this.closed = true;
    this.drop();
  }
}

/**
 * A loopback address of its own for every block of 16,384 sockets (fewer than one address's
 * ephemeral ports), under a base the caller varies per process: 127.BASE.BLOCK.1.
 */
export const SOCKETS_PER_ADDRESS = 16_384;
export function loopbackSourceOf(base: number, slot: number): string {
  return `127.${1 + (Math.abs(Math.floor(base)) % 254)}.${Math.floor(slot / SOCKETS_PER_ADDRESS) % 256}.1`;
}

/** The soft "Max open files" of a /proc/<pid>/limits text; undefined when unlimited or absent. */
export function openFilesLimit(limitsText: string): number | undefined {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined || soft === 'unlimited') return undefined;
  const n = Number(soft);
  return Number.isFinite(n) ? n : undefined;
}

/** Descriptors a process keeps for itself besides the devices' sockets (stdio, workers, the server, files). */
export const FD_HEADROOM = 64;

/** A one-line refusal when `sockets` more descriptors do not fit under the limit; undefined when they do. */
export function fdShortfall(sockets: number, limit: number | undefined, place: string): string | undefined {
  if (limit === undefined || sockets + FD_HEADROOM <= limit) return undefined;
  return `${place}: ${sockets} devices need one UDP socket each (${sockets + FD_HEADROOM} descriptors with the harness's own), but the open-files limit is ${limit}; raise it (ulimit -n ${sockets + FD_HEADROOM}) or run fewer devices per process`;
}

/** Checks the process's open-files limit for `sockets` UDP sockets up front: a ConfigError naming `place`, never EMFILE mid-run. */
export function checkFdLimit(sockets: number, place: string, limitsPath = '/proc/self/limits'): void {
  let text: string;
  try {
    text = readFileSync(limitsPath, 'utf8');
  } catch {
    return; // not Linux: nothing to read, the OS will say EMFILE itself
  }
  const message = fdShortfall(sockets, openFilesLimit(text), place);
  if (message !== undefined) throw new ConfigError(message);
}
