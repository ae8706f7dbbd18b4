/**
 * LwM2M (OMA LwM2M 1.0 / 1.1) over CoAP: the registration interface, Object 5 (Firmware Update)
 * and the downlink schedules a platform may keep for server-originated messages. Shared by the
 * device dialect and the server in `serve`.
 */

/** Object / resource ids the OTA work uses. */
export const OBJECT = { SECURITY: 0, SERVER: 1, DEVICE: 3, FIRMWARE: 5 } as const;

/** Object 3 (Device) resources. */
export const DEVICE_RESOURCE = { MANUFACTURER: 0, MODEL: 1, SERIAL: 2, FIRMWARE_VERSION: 3, BATTERY_LEVEL: 9 } as const;

/** Object 5 (Firmware Update) resources. */
export const FIRMWARE_RESOURCE = {
  PACKAGE: 0,
  PACKAGE_URI: 1,
  UPDATE: 2,
  STATE: 3,
  UPDATE_RESULT: 5,
  PKG_NAME: 6,
  PKG_VERSION: 7,
  PROTOCOL_SUPPORT: 8,
  DELIVERY_METHOD: 9,
} as const;

/** Object 5 State (resource 3). */
export const FIRMWARE_STATE = { IDLE: 0, DOWNLOADING: 1, DOWNLOADED: 2, UPDATING: 3 } as const;
export type FirmwareState = (typeof FIRMWARE_STATE)[keyof typeof FIRMWARE_STATE];
export const FIRMWARE_STATE_NAME: Readonly<Record<FirmwareState, string>> = { 0: 'Idle', 1: 'Downloading', 2: 'Downloaded', 3: 'Updating' };

/** Object 5 Update Result (resource 5), LwM2M 1.1. */
export const UPDATE_RESULT = {
  INITIAL: 0,
  SUCCESS: 1,
  NOT_ENOUGH_FLASH: 2,
  OUT_OF_RAM: 3,
  CONNECTION_LOST: 4,
  INTEGRITY_CHECK_FAILURE: 5,
  UNSUPPORTED_PACKAGE_TYPE: 6,
  INVALID_URI: 7,
  UPDATE_FAILED: 8,
  UNSUPPORTED_PROTOCOL: 9,
} as const;
export type UpdateResult = (typeof UPDATE_RESULT)[keyof typeof UPDATE_RESULT];
export const UPDATE_RESULT_MEANING: Readonly<Record<UpdateResult, string>> = {
  0: 'initial value',
  1: 'firmware updated successfully',
  2: 'not enough flash memory for the new package',
  3: 'out of RAM during download',
  4: 'connection lost during download',
  5: 'integrity check failure',
  6: 'unsupported package type',
  7: 'invalid URI',
  8: 'firmware update failed',
  9: 'unsupported protocol',
};

/** Resource 8, Firmware Update Protocol Support. */
export const PROTOCOL_SUPPORT = { COAP: 0, COAPS: 1, HTTP: 2, HTTPS: 3, COAP_TCP: 4, COAP_TLS: 5 } as const;
/** Resource 9, Firmware Update Delivery Method. */
export const DELIVERY_METHOD = { PULL: 0, PUSH: 1, BOTH: 2 } as const;

/** Registration binding: `U` (always reachable) or `UQ` (queue mode: reachable only after it speaks). */
export type Binding = 'U' | 'UQ';

/** Registration interface paths and query names. */
export const REGISTRATION = { PATH: 'rd', ENDPOINT: 'ep', LIFETIME: 'lt', VERSION: 'lwm2m', BINDING: 'b' } as const;

/** Resource path `/o/i/r` as a string. */
export const resourcePath = (object: number, instance: number, resource?: number): string =>
  resource === undefined ? `/${object}/${instance}` : `/${object}/${instance}/${resource}`;

/**
 * Command states of a server-originated downlink, as the Huawei platform names them (spec §3.2):
 * PENDING (held for a sleeping device), SENT, DELIVERED (ACK), SUCCESSFUL (result), FAILED,
 * TIMEOUT (no ACK by the give-up time), EXPIRED (held past its cache time), CANCELED.
 */
export type CommandState = 'PENDING' | 'SENT' | 'DELIVERED' | 'SUCCESSFUL' | 'FAILED' | 'TIMEOUT' | 'EXPIRED' | 'CANCELED';

/**
 * How a server retransmits a confirmable downlink nobody acknowledges: each resend's delay after
 * the previous transmission as a [min, max] window, and the window in which it gives up (TIMEOUT).
 */
export interface DownlinkSchedule {
  readonly name: string;
  /** Resend k's delay after transmission k−1 (ms): [min, max]. */
  readonly resendWindowsMs: readonly (readonly [number, number])[];
  /** The give-up (TIMEOUT) comes this long after the first transmission (ms): [min, max]. */
  readonly giveUpMs: readonly [number, number];
}

/** Huawei's documented schedule: resends 10–15 s, 20–30 s, 40–60 s after each; TIMEOUT by 80–120 s. */
export const HUAWEI_DOWNLINK: DownlinkSchedule = {
  name: 'huawei',
  resendWindowsMs: [
    [10_000, 15_000],
    [20_000, 30_000],
    [40_000, 60_000],
  ],
  giveUpMs: [80_000, 120_000],
};

/**
 * RFC 7252's: the first timeout uniform in [2 s, 3 s], doubling, 4 retransmits; the sender gives up
 * when the last one's timeout runs out (between 62 s and MAX_TRANSMIT_WAIT, 93 s).
 */
export const RFC7252_DOWNLINK: DownlinkSchedule = {
  name: 'rfc7252',
  resendWindowsMs: [
    [2_000, 3_000],
    [4_000, 6_000],
    [8_000, 12_000],
    [16_000, 24_000],
  ],
  giveUpMs: [62_000, 93_000],
};

export const DOWNLINK_SCHEDULES: Readonly<Record<string, DownlinkSchedule>> = { huawei: HUAWEI_DOWNLINK, rfc7252: RFC7252_DOWNLINK };

/** Queue mode's awake window after the client last spoke: MAX_TRANSMIT_WAIT, 93 s, by common reading. */
export const QUEUE_MODE_AWAKE_MS = 93_000;
