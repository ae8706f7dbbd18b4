/**
 * The LwM2M server's decisions: answers to the registration interface and the firmware repository,
 * the per-device downlink queue (held while a queue-mode device sleeps, sent on its Register /
 * Update, one confirmable at a time), the retransmission of its CONs on the profile's schedule, the
 * command states (PENDING, SENT, DELIVERED, SUCCESSFUL, FAILED, TIMEOUT, EXPIRED) and the campaign.
 * No sockets: datagrams go out through `ports.send`, timers through `ports.after` (virtual ms), so
 * tests drive it on a fake clock. src/server/coap/endpoint.ts does the I/O.
 *
 * Choices:
 * - A Register renews an endpoint's registration under a new id; commands and observations of the
 *   old one stay (their CONs go to the address the device now speaks from: NAT rebinding).
 * - An ACK or a notification proves the device awake (its awake window restarts); only Register and
 *   Update refresh its lifetime.
 * - An ACK that comes after the give-up (TIMEOUT) changes nothing and is counted as late.
 */
import { generate, type ParsedPacket } from 'coap-packet';
import { COAP_CODE, COAP_OPTION, CONTENT_FORMAT } from '../../protocol/coap.js';
import { DOWNLINK_SCHEDULES, QUEUE_MODE_AWAKE_MS, REGISTRATION, type CommandState, type DownlinkSchedule } from '../../protocol/lwm2m.js';
import { indexOf, parseIdRange, type IdRange } from '../../catalog/id-range.js';
import type { Lwm2mCampaign, Lwm2mSection } from '../../catalog/schema.js';
import type { BugName } from '../bugs.js';
import type { PackageRuntime } from '../state/catalog-runtime.js';
import { block2Of, emptyAck, hasOption, isRequestCode, reset, uintBytes, uintOption, uriPath, uriQuery, type Peer, type ResponseParts } from '../coap/packet.js';
import { commandsOnWake, newView, onAnswer, onValue, parseResourceValue, UPDATE_PATH, type CommandSpec } from './campaign.js';
import type { Command, Lwm2mDevice } from './model.js';
import { DEFAULT_LIFETIME_SEC, DEFAULT_MAX_REGISTRATIONS, isReachable, isRegistered, parseRegisterQuery, Registry } from './registry.js';
import { blockAnswer, REPOSITORY_PATH } from './repository.js';
import { LWM2M_HTTP_PREFIX } from './http.js';
import { planTransmissions, resendOffsets } from './schedule.js';

export interface Lwm2mPorts {
  /** Virtual ms. */
  now(): number;
  /** Sends one datagram (the endpoint applies the fault knobs). */
  send(bytes: Buffer, peer: Peer): void;
  /** Runs `fn` after `virtualMs`; returns a cancel. */
  after(virtualMs: number, fn: () => void): () => void;
  /** Seeded uniform [0, 1). */
  random(): number;
  readonly bugs: ReadonlySet<BugName>;
  /** `coap://host:port`, for the Package URI. */
  coapBase(): string;
  /** `http://host:port`, for a Package URI of a campaign with `delivery: http`. */
  httpBase(): string;
}

export interface CampaignRuntime {
  readonly index: number;
  readonly spec: Lwm2mCampaign;
  readonly range: IdRange;
  readonly pkg: PackageRuntime;
}

export interface Lwm2mCounters {
  requests: number;
  blocksServed: number;
  bytesServed: number;
  transmissions: number;
  retransmissions: number;
  lateAcks: number;
  unmatched: number;
  /** Observe notifications taken, and how many of them came as CON (each ACKed). */
  notifications: number;
  confirmableNotifications: number;
}

/** What an incoming request gets: the answer, and what to do once it is sent. */
export interface RequestOutcome {
  answer: ResponseParts;
  then?: () => void;
}

const METHOD_OF: Readonly<Record<Command['kind'], string>> = { observe: COAP_CODE.GET, read: COAP_CODE.GET, write: COAP_CODE.PUT, execute: COAP_CODE.POST };

export class Lwm2mServer {
  readonly registry: Registry;
  readonly campaigns: CampaignRuntime[] = [];
  readonly schedule: DownlinkSchedule;
  readonly commandTtlMs: number;
  /** Queue mode's awake window after a device last spoke (virtual ms). */
  readonly awakeMs: number;
  readonly counters: Lwm2mCounters = { requests: 0, blocksServed: 0, bytesServed: 0, transmissions: 0, retransmissions: 0, lateAcks: 0, unmatched: 0, notifications: 0, confirmableNotifications: 0 };
  private readonly byMessageId = new Map<number, { device: Lwm2mDevice; command: Command }>();
  private readonly byToken = new Map<string, { device: Lwm2mDevice; command: Command }>();
  /** Message ids and tokens of commands that gave up, to tell a late ACK from a stray one. */
  private readonly gaveUp = new Set<number>();
  private messageId: number;
  private tokenSeq = 1;
  private commandSeq = 1;

  constructor(
    section: Lwm2mSection,
    readonly packages: ReadonlyMap<string, PackageRuntime>,
    private readonly ports: Lwm2mPorts,
  ) {
    this.schedule = DOWNLINK_SCHEDULES[section.schedule] as DownlinkSchedule;
    this.commandTtlMs = section.commandTtlSec * 1000;
    this.awakeMs = (section.awakeSec ?? QUEUE_MODE_AWAKE_MS / 1000) * 1000;
    this.messageId = Math.floor(ports.random() * 0x10000);
    this.registry = new Registry(
      (ep, peer, now) => ({
        ep,
        regId: undefined,
        binding: 'U',
        lifetimeSec: DEFAULT_LIFETIME_SEC,
        version: '1.1',
        peer,
        registeredAt: now,
        refreshedAt: now,
        lastHeard: now,
        registrations: 0,
        updates: 0,
        expiries: 0,
        commands: [],
        silent: false,
        outstanding: undefined,
        firmware: newView(this.campaignOf(ep)?.index ?? -1),
      }),
      section.maxRegistrations ?? DEFAULT_MAX_REGISTRATIONS,
    );
    for (const spec of section.campaigns) this.addCampaign(spec);
  }

  now = (): number => this.ports.now();

  nextMessageId = (): number => (this.messageId = (this.messageId + 1) & 0xffff);

  // ---- campaigns -------------------------------------------------------------------------------

  /** Adds a campaign; registered devices it covers that have none get it at once. Throws RangeError on a bad range or package. */
  addCampaign(spec: Lwm2mCampaign): CampaignRuntime {
    const pkg = this.packages.get(spec.package);
    if (!pkg) throw new RangeError(`package: no LwM2M package ${spec.package}`);
    const campaign: CampaignRuntime = { index: this.campaigns.length, spec, range: parseIdRange(spec.endpoints), pkg };
    this.campaigns.push(campaign);
    for (const device of this.registry.byEp.values()) {
      if (device.firmware.campaign >= 0 || indexOf(campaign.range, device.ep) < 0) continue;
      device.firmware = newView(campaign.index);
      this.wake(device, false);
    }
    return campaign;
  }

  campaignOf(ep: string): CampaignRuntime | undefined {
    return this.campaigns.find((c) => indexOf(c.range, ep) >= 0);
  }

  private readonly uriBytes = new Map<string, Buffer>();

  /** The Package URI as bytes, one Buffer per URI. */
  packageUriBytes(pkg: PackageRuntime, delivery: Lwm2mCampaign['delivery'] = 'coap'): Buffer {
    const uri = this.packageUri(pkg, delivery);
    let bytes = this.uriBytes.get(uri);
    if (!bytes) this.uriBytes.set(uri, (bytes = Buffer.from(uri, 'utf8')));
    return bytes;
  }

  packageUri(pkg: PackageRuntime, delivery: Lwm2mCampaign['delivery'] = 'coap'): string {
    if (delivery === 'http') return `${this.ports.httpBase()}${LWM2M_HTTP_PREFIX}${encodeURIComponent(pkg.id)}`;
    return `${this.ports.coapBase()}/${REPOSITORY_PATH}/${encodeURIComponent(pkg.id)}`;
  }

  // ---- incoming --------------------------------------------------------------------------------

  /** A request from a device (or any client): the registration interface or the repository. */
  onRequest(req: ParsedPacket, peer: Peer): RequestOutcome {
    this.counters.requests++;
    const path = uriPath(req);
    const now = this.ports.now();
    if (path[0] === REGISTRATION.PATH) return this.registration(req, path, peer, now);
    if (path[0] === REPOSITORY_PATH && path.length === 2) {
      if (req.code !== COAP_CODE.GET) return { answer: { code: COAP_CODE.METHOD_NOT_ALLOWED } };
      const pkg = this.packages.get(path[1] as string);
      if (!pkg) return { answer: { code: COAP_CODE.NOT_FOUND, payload: Buffer.from(`no package ${path[1] as string}`) } };
      const answer = blockAnswer(pkg.image, block2Of(req), this.ports.bugs.has('block2-off-by-one'));
      if (answer.code === COAP_CODE.CONTENT) {
        this.counters.blocksServed++;
        this.counters.bytesServed += answer.payload?.length ?? 0;
      }
      return { answer };
    }
    return { answer: { code: COAP_CODE.NOT_FOUND } };
  }

  private registration(req: ParsedPacket, path: string[], peer: Peer, now: number): RequestOutcome {
    const bad = (why: string): RequestOutcome => ({ answer: { code: COAP_CODE.BAD_REQUEST, payload: Buffer.from(why) } });
    if (path.length === 1) {
      if (req.code !== COAP_CODE.POST) return { answer: { code: COAP_CODE.METHOD_NOT_ALLOWED } };
      const q = parseRegisterQuery(uriQuery(req), true);
      if (typeof q === 'string') return bad(q);
      const outcome = this.registry.register({ ep: q.ep as string, lifetimeSec: q.lifetimeSec ?? DEFAULT_LIFETIME_SEC, binding: q.binding ?? 'U', version: q.version ?? '1.1' }, peer, now);
      if (outcome.kind === 'full') return registryFull(this.registry.maxEndpoints, outcome.retryAfterSec);
      const { device } = outcome;
      this.onRegistered(device);
      return {
        answer: { code: COAP_CODE.CREATED, options: [{ name: COAP_OPTION.LOCATION_PATH, value: Buffer.from(REGISTRATION.PATH) }, { name: COAP_OPTION.LOCATION_PATH, value: Buffer.from(device.regId as string) }] },
        then: () => this.wake(device, true),
      };
    }
    if (path.length !== 2) return { answer: { code: COAP_CODE.NOT_FOUND } };
    const device = this.registry.live(path[1] as string, now);
    if (!device) return { answer: { code: COAP_CODE.NOT_FOUND, payload: Buffer.from('no such registration (expired or de-registered): register again') } };
    if (req.code === COAP_CODE.POST) {
      const q = parseRegisterQuery(uriQuery(req), false);
      if (typeof q === 'string') return bad(q);
      this.registry.update(device, q, peer, now);
      return { answer: { code: COAP_CODE.CHANGED }, then: () => this.wake(device, true) };
    }
    if (req.code === COAP_CODE.DELETE) {
      this.registry.deregister(device);
      this.cancelOutstanding(device, now);
      return { answer: { code: COAP_CODE.DELETED } };
    }
    return { answer: { code: COAP_CODE.METHOD_NOT_ALLOWED } };
  }

  private heard(device: Lwm2mDevice, now: number): void {
    device.lastHeard = Math.max(device.lastHeard, now);
    device.silent = false;
  }

  private onRegistered(device: Lwm2mDevice): void {
    if (device.firmware.phase === 'executed') device.firmware = { ...device.firmware, registersAfterExecute: device.firmware.registersAfterExecute + 1 };
    // A new registration ends the observations of the old one.
    for (const c of device.commands) {
      if (c.kind === 'observe' && c.token && c.observing) {
        this.byToken.delete(c.token.toString('hex'));
        c.observing = false;
      }
    }
  }

  /** An ACK or RST (to one of the server's CONs). */
  onAckOrReset(msg: ParsedPacket): void {
    const entry = this.byMessageId.get(msg.messageId);
    if (!entry) {
      if (this.gaveUp.has(msg.messageId)) this.counters.lateAcks++;
      else this.counters.unmatched++;
      return;
    }
    const { device, command } = entry;
    const now = this.ports.now();
    this.heard(device, now);
    this.byMessageId.delete(msg.messageId);
    command.cancelTimer?.();
    command.cancelTimer = undefined;
    if (device.outstanding === command) device.outstanding = undefined;
    if (msg.reset) {
      this.finish(device, command, 'FAILED', 'RST', now);
    } else {
      setState(command, 'DELIVERED');
      command.deliveredAt = now;
      // A piggybacked response completes it; an empty ACK means a separate response follows.
      if (msg.code !== COAP_CODE.EMPTY) this.complete(device, command, msg, now);
    }
    this.pump(device);
  }

  /**
   * A response that is not on an ACK: a separate response or an Observe notification. Returns the
   * bytes to answer with (an ACK for a CON, a RST for a CON nobody asked for).
   */
  onResponse(msg: ParsedPacket): Buffer | undefined {
    const key = msg.token.toString('hex');
    const entry = this.byToken.get(key);
    if (!entry) {
      this.counters.unmatched++;
      return msg.confirmable ? reset(msg.messageId) : undefined;
    }
    const now = this.ports.now();
    const { device, command } = entry;
    this.heard(device, now);
    if (command.observing) this.notification(device, command, msg);
    else if (command.state === 'DELIVERED' || command.state === 'SENT') {
      if (command.state === 'SENT') {
        // The response overtook its ACK (or the ACK was lost): it acknowledges the request too.
        this.byMessageId.delete(command.messageId as number);
        command.cancelTimer?.();
        command.cancelTimer = undefined;
        if (device.outstanding === command) device.outstanding = undefined;
        command.deliveredAt = now;
      }
      this.complete(device, command, msg, now);
      this.pump(device);
    }
    return msg.confirmable ? emptyAck(msg.messageId) : undefined;
  }

  private complete(device: Lwm2mDevice, command: Command, msg: ParsedPacket, now: number): void {
    const ok = msg.code.startsWith('2.');
    this.finish(device, command, ok ? 'SUCCESSFUL' : 'FAILED', msg.code, now);
    if (command.kind === 'observe' && ok && hasOption(msg, 'Observe')) {
      // The token stays for the notifications.
      command.observing = true;
      this.byToken.set((command.token as Buffer).toString('hex'), { device, command });
    }
    if ((command.kind === 'observe' || command.kind === 'read') && ok) this.value(device, command.path, msg);
    else if (command.kind === 'write' || command.kind === 'execute') device.firmware = onAnswer(device.firmware, command, msg.code);
  }

  private notification(device: Lwm2mDevice, command: Command, msg: ParsedPacket): void {
    this.counters.notifications++;
    if (msg.confirmable) this.counters.confirmableNotifications++;
    if (!msg.code.startsWith('2.')) {
      // An error notification ends the observation (RFC 7641 §3.2).
      this.byToken.delete((command.token as Buffer).toString('hex'));
      command.observing = false;
      return;
    }
    this.value(device, command.path, msg);
  }

  private value(device: Lwm2mDevice, path: string, msg: ParsedPacket): void {
    const v = parseResourceValue(msg.payload, uintOption(msg, 'Content-Format'));
    if (v === undefined) return;
    const { view, execute } = onValue(device.firmware, path, v);
    device.firmware = view;
    if (execute) {
      this.enqueue(device, { kind: 'execute', path: UPDATE_PATH });
      this.pump(device);
    }
  }

  private finish(device: Lwm2mDevice, command: Command, state: CommandState, code: string | undefined, now: number): void {
    setState(command, state);
    command.code = code;
    command.finishedAt = now;
    command.bytes = undefined;
    if (command.token && !command.observing) this.byToken.delete(command.token.toString('hex'));
    void device;
  }

  // ---- the downlink queue ------------------------------------------------------------------------

  /**
   * The device spoke (Register / Update) or its campaign changed: expire what waited too long, add
   * what the campaign needs, send the head of the queue if the device may be reached.
   */
  wake(device: Lwm2mDevice, spoke: boolean): void {
    const now = this.ports.now();
    this.expirePending(device, now);
    const campaign = device.firmware.campaign >= 0 ? this.campaigns[device.firmware.campaign] : undefined;
    if (campaign) {
      const specs = commandsOnWake(device.firmware, device.commands, {
        uri: this.packageUriBytes(campaign.pkg, campaign.spec.delivery),
        observe: campaign.spec.observe,
        registration: device.registrations,
        // The buggy server forgets a lost command; only a fresh wake of a healthy one re-issues it.
        reissue: spoke && !this.ports.bugs.has('lwm2m-no-queue'),
      });
      for (const s of specs) this.enqueue(device, s);
    }
    this.pump(device);
  }

  private enqueue(device: Lwm2mDevice, spec: CommandSpec): Command {
    const command: Command = {
      id: this.commandSeq++,
      kind: spec.kind,
      path: spec.path,
      payload: spec.payload,
      state: 'PENDING',
      createdAt: this.ports.now(),
      registration: device.registrations,
      transmissions: [],
      deliveredAt: undefined,
      finishedAt: undefined,
      code: undefined,
      messageId: undefined,
      token: undefined,
      bytes: undefined,
      plan: undefined,
      observing: false,
      cancelTimer: undefined,
    };
    device.commands.push(command);
    if (device.commands.length > COMMAND_HISTORY) forgetOldest(device);
    return command;
  }

  expirePending(device: Lwm2mDevice, now: number): void {
    for (const c of device.commands) {
      if (c.state === 'PENDING' && now - c.createdAt > this.commandTtlMs) {
        setState(c, 'EXPIRED');
        c.finishedAt = now;
      }
    }
  }

  /** Sends the oldest PENDING command when nothing is outstanding and the device may be reached. */
  pump(device: Lwm2mDevice): void {
    const now = this.ports.now();
    if (device.outstanding || !isRegistered(device, now)) return;
    // The `lwm2m-no-queue` bug sends to a sleeping device as if it were awake.
    if ((device.silent || !isReachable(device, now, this.awakeMs)) && !this.ports.bugs.has('lwm2m-no-queue')) return;
    const next = device.commands.find((c) => c.state === 'PENDING');
    if (next) this.transmit(device, next, now);
  }

  private transmit(device: Lwm2mDevice, command: Command, now: number): void {
    const token = Buffer.alloc(4);
    token.writeUInt32BE(this.tokenSeq++ >>> 0);
    const messageId = this.nextMessageId();
    const options: { name: number; value: Buffer }[] = command.path.split('/').filter((s) => s.length > 0).map((s) => ({ name: COAP_OPTION.URI_PATH as number, value: Buffer.from(s) as Buffer }));
    if (command.kind === 'observe') options.unshift({ name: COAP_OPTION.OBSERVE, value: Buffer.alloc(0) });
    if (command.kind === 'write') options.push({ name: COAP_OPTION.CONTENT_FORMAT, value: uintBytes(CONTENT_FORMAT.TEXT) });
    command.token = token;
    command.messageId = messageId;
    command.bytes = generate({ code: METHOD_OF[command.kind], confirmable: true, messageId, token, options, payload: command.payload ?? Buffer.alloc(0) });
    command.plan = planTransmissions(this.schedule, this.ports.random(), {
      retransmitEarly: this.ports.bugs.has('lwm2m-retransmit-early'),
      giveUpEarly: this.ports.bugs.has('lwm2m-give-up-early'),
    });
    setState(command, 'SENT');
    device.outstanding = command;
    this.byMessageId.set(messageId, { device, command });
    this.byToken.set(token.toString('hex'), { device, command });
    this.sendOnce(device, command, now);
    this.counters.transmissions++;
    this.armNext(device, command, 0);
  }

  private sendOnce(device: Lwm2mDevice, command: Command, now: number): void {
    command.transmissions.push(now);
    this.ports.send(command.bytes as Buffer, device.peer);
  }

  /** Arms the timer of the next resend (k-th, 0-based) or of the give-up. */
  private armNext(device: Lwm2mDevice, command: Command, k: number): void {
    const plan = command.plan;
    if (!plan) return;
    const offsets = resendOffsets(plan);
    const first = command.transmissions[0] as number;
    const due = k < offsets.length ? (offsets[k] as number) : plan.giveUpAfterMs;
    const delay = Math.max(0, first + due - this.ports.now());
    command.cancelTimer = this.ports.after(delay, () => {
      command.cancelTimer = undefined;
      if (command.state !== 'SENT') return;
      if (k < offsets.length) {
        this.sendOnce(device, command, this.ports.now());
        this.counters.retransmissions++;
        this.armNext(device, command, k + 1);
        return;
      }
      this.byMessageId.delete(command.messageId as number);
      this.gaveUp.add(command.messageId as number);
      if (this.gaveUp.size > 4096) this.gaveUp.delete(this.gaveUp.values().next().value as number);
      if (device.outstanding === command) device.outstanding = undefined;
      this.finish(device, command, 'TIMEOUT', undefined, this.ports.now());
      // No answer by the give-up: the device is taken to be asleep until it speaks again.
      device.silent = true;
      this.pump(device);
    });
  }

  /**
   * The device de-registered: the CON it has not acknowledged is CANCELED (code `de-registered`),
   * not retransmitted to an address the device has left; what is still PENDING waits for its next
   * registration, or expires.
   */
  private cancelOutstanding(device: Lwm2mDevice, now: number): void {
    const command = device.outstanding;
    if (command === undefined || command.state !== 'SENT') return;
    command.cancelTimer?.();
    command.cancelTimer = undefined;
    this.byMessageId.delete(command.messageId as number);
    device.outstanding = undefined;
    this.finish(device, command, 'CANCELED', 'de-registered', now);
  }

  /** Stops every timer (server close). */
  close(): void {
    for (const { command } of this.byMessageId.values()) command.cancelTimer?.();
    this.byMessageId.clear();
  }

  /** Command counts by state over all devices (expiring what waited too long). */
  commandCounts(): Record<CommandState, number> {
    const now = this.ports.now();
    const out: Record<CommandState, number> = { PENDING: 0, SENT: 0, DELIVERED: 0, SUCCESSFUL: 0, FAILED: 0, TIMEOUT: 0, EXPIRED: 0, CANCELED: 0 };
    for (const d of this.registry.byEp.values()) {
      this.expirePending(d, now);
      for (const c of d.commands) out[c.state]++;
    }
    return out;
  }
}

/** 5.03 with Max-Age (RFC 7252 §5.9.3.4): every place of the registry holds a live registration. */
function registryFull(max: number, retryAfterSec: number): RequestOutcome {
  return {
    answer: {
      code: COAP_CODE.SERVICE_UNAVAILABLE,
      options: [{ name: COAP_OPTION.MAX_AGE, value: uintBytes(retryAfterSec) }],
      payload: Buffer.from(`registry full: ${max} endpoints registered; retry after ${retryAfterSec} s`),
    },
  };
}

/** Commands kept per device: past this, the oldest finished one is forgotten (a long run of wakes stays bounded). */
export const COMMAND_HISTORY = 64;

function forgetOldest(device: Lwm2mDevice): void {
  const i = device.commands.findIndex((c) => c.finishedAt !== undefined && !c.observing);
  if (i >= 0) device.commands.splice(i, 1);
}

function setState(command: Command, state: CommandState): void {
  command.state = state;
}

export const isResponseCode = (code: string): boolean => !isRequestCode(code) && code !== COAP_CODE.EMPTY;
