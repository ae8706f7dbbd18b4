/**
 * The LwM2M dialect: devices over CoAP/UDP (the `coap` transport, engine/coap-transport.ts). Its
 * machine is not wrapped in the HTTP dialects' transmission layer: the CoAP layer retransmits
 * confirmable messages itself, on the same timing (RetransmitSettings).
 */
import { lwm2mMachine } from '../../device/lwm2m/machine.js';
import { lwm2mRules } from '../../device/lwm2m/rules.js';
import { LWM2M_OPERATIONS, type Lwm2mAnswer, type Lwm2mDeviceSettings, type Lwm2mKind, type Lwm2mRequest, type Lwm2mState } from '../../device/lwm2m/types.js';
import type { StateCategory } from '../categories.js';
import type { CoapTransportMessage, CoapTransportResult } from '../coap.js';
import type { Wire } from '../types.js';
import { lwm2mEvidence } from './evidence.js';
import { lwm2mTarget } from './target.js';
import { decodeLwm2m, encodeLwm2m, lwm2mIsError, lwm2mOperationOf, lwm2mOutcomeOf } from './wire.js';

export const lwm2mWire: Wire<Lwm2mRequest, Lwm2mAnswer, Lwm2mDeviceSettings, CoapTransportMessage, CoapTransportResult> = {
  encode: (r) => encodeLwm2m(r),
  decode: decodeLwm2m,
  operationOf: lwm2mOperationOf,
  outcomeOf: lwm2mOutcomeOf,
  isError: lwm2mIsError,
  waits: (r) => r.op === 'listen' || r.op === 'sleep',
};

const lwm2mCategories = {
  registering: 'checking',
  updating: 'checking',
  listening: 'checking',
  answering: 'checking',
  notifying: 'checking',
  downloading: 'downloading',
  rebooting: 'upgrading',
  asleep: 'asleep',
  deregistering: 'other',
  succeeded: 'succeeded',
  'up-to-date': 'succeeded',
  failed: 'failed',
  'gave-up': 'failed',
} as const satisfies Record<Lwm2mKind, StateCategory>;

/** The probe registered (it stops at its first listen): De-register that registration, so none is left on the user's server. */
export const lwm2mProbeLeave = (s: Lwm2mState): Lwm2mRequest | undefined => (s.location === undefined ? undefined : { op: 'deregister', location: s.location });

export const lwm2mPlugin = {
  name: 'lwm2m',
  transport: 'coap',
  target: lwm2mTarget,
  operations: LWM2M_OPERATIONS,
  machine: lwm2mMachine,
  wire: lwm2mWire,
  evidence: lwm2mEvidence,
  rules: lwm2mRules,
  categories: lwm2mCategories,
  probeLeave: lwm2mProbeLeave,
} as const;
