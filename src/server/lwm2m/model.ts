/**
 * What the LwM2M server keeps per endpoint: its registration, its downlink commands and the
 * server's own view of its Object 5. Plain records, kept small (a fleet of 100,000 in queue mode).
 */
import type { Binding, CommandState, FirmwareState, UpdateResult } from '../../protocol/lwm2m.js';
import type { Peer } from '../coap/packet.js';
import type { TransmissionPlan } from './schedule.js';

export type CommandKind = 'observe' | 'read' | 'write' | 'execute';

export interface Command {
  readonly id: number;
  readonly kind: CommandKind;
  /** `/5/0/1` ... */
  readonly path: string;
  readonly payload: Buffer | undefined;
  state: CommandState;
  readonly createdAt: number;
  /** The device's registration count when it was made (observations end with a new Register). */
  readonly registration: number;
  /** Virtual ms of every transmission, first included. */
  readonly transmissions: number[];
  deliveredAt: number | undefined;
  finishedAt: number | undefined;
  /** The device's answer code (`2.04`, `4.05`...). */
  code: string | undefined;
  messageId: number | undefined;
  token: Buffer | undefined;
  bytes: Buffer | undefined;
  plan: TransmissionPlan | undefined;
  /** An Observe the device accepted (its answer carried Observe) and has not ended: notifications come. */
  observing: boolean;
  /** Cancels the pending resend / give-up timer. */
  cancelTimer: (() => void) | undefined;
}

/** Where the server believes the device's firmware update stands. */
export type CampaignPhase =
  | 'none' // no campaign, or nothing delivered yet
  | 'uri-written' // the device accepted the Package URI (2.04)
  | 'downloaded' // it reported State 2
  | 'executed' // it accepted Update (2.04)
  | 'succeeded' // Update Result 1 after Update
  | 'failed'; // Update Result 2–9

export interface FirmwareView {
  /** Index of the campaign that applies (-1: none). */
  campaign: number;
  phase: CampaignPhase;
  state: FirmwareState | undefined;
  updateResult: UpdateResult | undefined;
  packageUri: string | undefined;
  /** Registrations since Update was executed (the update's reboot shows as a new Register). */
  registersAfterExecute: number;
}

export interface Lwm2mDevice {
  readonly ep: string;
  /** Current registration id (the `{id}` of /rd/{id}); undefined when de-registered or never. */
  regId: string | undefined;
  binding: Binding;
  lifetimeSec: number;
  version: string;
  peer: Peer;
  registeredAt: number;
  /** Virtual ms of the last Register or Update: the lifetime runs from here. */
  refreshedAt: number;
  /** Virtual ms the device last spoke (Register, Update, any message). */
  lastHeard: number;
  registrations: number;
  updates: number;
  /** Lifetime expiries the server noticed. */
  expiries: number;
  commands: Command[];
  /** A CON of it timed out: nothing more is sent until it speaks again. */
  silent: boolean;
  /** The confirmable downlink awaiting its ACK (NSTART 1). */
  outstanding: Command | undefined;
  firmware: FirmwareView;
}
