/**
 * The upgrade campaign's decisions for one device, from the server's view of its Object 5: which
 * downlink commands it needs when it wakes, and how a value it reports (State, Update Result) or
 * an answer to Write / Execute moves the view. Pure.
 *
 * Flow (LwM2M 1.1 §E.6): observe (or read) /5/0/3 and /5/0/5 → Write the Package URI to /5/0/1 →
 * the device downloads (State 1) → State 2 → Execute /5/0/2 → the device updates and registers
 * again → Update Result 1 (success) or 2–9 (failure).
 *
 * Choices:
 * - A command that timed out or expired is issued again on the device's next wake (the platform
 *   application's retry), unless the `lwm2m-no-queue` bug is on: that server loses it for good.
 * - Update Result 1 counts as success only after Update was executed (1 before that is a stale
 *   value of an earlier update); a result of 2–9 fails the campaign for the device at any phase.
 */
import { FIRMWARE_STATE, FIRMWARE_RESOURCE, OBJECT, UPDATE_RESULT, resourcePath, type FirmwareState, type UpdateResult } from '../../protocol/lwm2m.js';
import type { CampaignPhase, Command, CommandKind, FirmwareView } from './model.js';

export const STATE_PATH = resourcePath(OBJECT.FIRMWARE, 0, FIRMWARE_RESOURCE.STATE);
export const RESULT_PATH = resourcePath(OBJECT.FIRMWARE, 0, FIRMWARE_RESOURCE.UPDATE_RESULT);
export const URI_PATH = resourcePath(OBJECT.FIRMWARE, 0, FIRMWARE_RESOURCE.PACKAGE_URI);
export const UPDATE_PATH = resourcePath(OBJECT.FIRMWARE, 0, FIRMWARE_RESOURCE.UPDATE);

export interface CommandSpec {
  readonly kind: CommandKind;
  readonly path: string;
  readonly payload?: Buffer;
}

const LIVE = new Set(['PENDING', 'SENT', 'DELIVERED']);
const FINAL_PHASES: ReadonlySet<CampaignPhase> = new Set(['succeeded', 'failed']);

export const newView = (campaign: number): FirmwareView => ({ campaign, phase: 'none', state: undefined, updateResult: undefined, packageUri: undefined, registersAfterExecute: 0 });

/**
 * Whether a command for (kind, path) is live, or (for `observe`) established since the last
 * Register. An Observe answered without the Observe option was a plain read: asked again next wake.
 */
function covered(commands: readonly Command[], kind: CommandKind, path: string, registration: number): boolean {
  return commands.some((c) => c.kind === kind && c.path === path && (LIVE.has(c.state) || (kind === 'observe' && c.observing && c.registration === registration)));
}

const liveAny = (commands: readonly Command[], kind: CommandKind, path: string): boolean => commands.some((c) => c.kind === kind && c.path === path && LIVE.has(c.state));

/**
 * What the device needs on this wake. `uri`: the Package URI of its campaign (one Buffer shared by
 * every device of the campaign: 100,000 held Writes do not hold 100,000 copies); `observe`: observe
 * rather than read; `registration`: the count of its current registration.
 */
export function commandsOnWake(view: FirmwareView, commands: readonly Command[], o: { uri: Buffer; observe: boolean; registration: number; reissue: boolean }): CommandSpec[] {
  if (view.campaign < 0 || FINAL_PHASES.has(view.phase)) return [];
  const out: CommandSpec[] = [];
  const lost = (kind: CommandKind, path: string): boolean => commands.some((c) => c.kind === kind && c.path === path && (c.state === 'TIMEOUT' || c.state === 'EXPIRED'));
  const want = (kind: CommandKind, path: string, payload?: Buffer): void => {
    if (kind === 'observe' ? covered(commands, kind, path, o.registration) : liveAny(commands, kind, path)) return;
    if (!o.reissue && lost(kind, path)) return;
    out.push(payload === undefined ? { kind, path } : { kind, path, payload });
  };
  for (const path of [STATE_PATH, RESULT_PATH]) {
    if (o.observe) want('observe', path);
    else if (view.phase !== 'none' && !liveAny(commands, 'read', path)) out.push({ kind: 'read', path });
  }
  // Notifications may be NON (RFC 7641 §4.5): one of State 2 lost on the way would leave the
  // campaign waiting for it forever, so a device that woke while its download is owed is asked.
  if (o.observe && view.phase === 'uri-written' && !liveAny(commands, 'read', STATE_PATH) && !out.some((c) => c.path === STATE_PATH)) out.push({ kind: 'read', path: STATE_PATH });
  if (view.phase === 'none') want('write', URI_PATH, o.uri);
  if (view.phase === 'downloaded') want('execute', UPDATE_PATH);
  return out;
}

/** The view after the device reported `value` for `path` (a notification or a read). */
export function onValue(view: FirmwareView, path: string, value: number): { view: FirmwareView; execute: boolean } {
  if (path === STATE_PATH && isState(value)) {
    const next = { ...view, state: value };
    if (value === FIRMWARE_STATE.DOWNLOADED && (view.phase === 'uri-written' || view.phase === 'none') && view.packageUri !== undefined) {
      return { view: { ...next, phase: 'downloaded' }, execute: true };
    }
    return { view: next, execute: false };
  }
  if (path === RESULT_PATH && isResult(value)) {
    const next = { ...view, updateResult: value };
    if (FINAL_PHASES.has(view.phase)) return { view: next, execute: false };
    if (value === UPDATE_RESULT.SUCCESS && view.phase === 'executed') return { view: { ...next, phase: 'succeeded' }, execute: false };
    if (value >= UPDATE_RESULT.NOT_ENOUGH_FLASH && view.campaign >= 0 && view.phase !== 'none') return { view: { ...next, phase: 'failed' }, execute: false };
    return { view: next, execute: false };
  }
  return { view, execute: false };
}

/** The view after the device answered a Write of the URI or an Execute of Update. */
export function onAnswer(view: FirmwareView, command: CommandSpec, code: string): FirmwareView {
  const ok = code.startsWith('2.');
  if (command.kind === 'write' && command.path === URI_PATH && ok && view.phase === 'none') return { ...view, phase: 'uri-written', packageUri: command.payload?.toString('utf8') };
  if (command.kind === 'execute' && ok && view.phase === 'downloaded') return { ...view, phase: 'executed', registersAfterExecute: 0 };
  return view;
}

const isState = (v: number): v is FirmwareState => Number.isInteger(v) && v >= 0 && v <= 3;
const isResult = (v: number): v is UpdateResult => Number.isInteger(v) && v >= 0 && v <= 9;

/**
 * A resource value from a response payload: text/plain (CF 0 or none) or a one-resource LwM2M TLV
 * (CF 11542); undefined when it is neither.
 */
export function parseResourceValue(payload: Buffer, contentFormat: number | undefined): number | undefined {
  if (contentFormat === undefined || contentFormat === 0) {
    const text = payload.toString('utf8').trim();
    return /^-?\d{1,10}$/.test(text) ? Number(text) : undefined;
  }
  if (contentFormat === 11542) return tlvInteger(payload);
  return undefined;
}

/** The integer of a single resource TLV (OMA TLV: type byte, id, length, big-endian value). */
function tlvInteger(b: Buffer): number | undefined {
  if (b.length < 2) return undefined;
  const type = b[0] as number;
  if ((type & 0xc0) !== 0xc0) return undefined; // resource with value
  let at = 1 + ((type & 0x20) !== 0 ? 2 : 1);
  const lenType = (type >> 3) & 3;
  let len: number;
  if (lenType === 0) len = type & 7;
  else {
    len = 0;
    for (let i = 0; i < lenType; i++) len = len * 256 + (b[at + i] ?? 0);
    at += lenType;
  }
  if (len < 1 || len > 4 || at + len > b.length) return undefined;
  return b.readIntBE(at, len);
}
