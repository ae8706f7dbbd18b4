/**
 * Field ids made test ids: each device id and task is replaced by a salted hash of it (HMAC-SHA256
 * with a salt from the environment or a file, never the command line), so a log can be kept in a
 * repository. A decimal id stays decimal and keeps its width and its leading digits (an IMEI its
 * 8-digit type code, another id its first half), so it still falls in the same kind of range.
 */
import { createHmac } from 'node:crypto';
import { queryParam, withQueryParam, type Exchange } from '../exchanges/exchange.js';
import { recogniseCall, replayDialect } from '../exchanges/calls.js';

export const ENV_REPLAY_SALT = 'OTA_SWARM_REPLAY_SALT';

export class Anonymiser {
  private readonly seen = new Map<string, string>();
  private readonly taken = new Set<string>();

  constructor(private readonly salt: string) {
    if (salt.length < 8) throw new Error('the anonymising salt must have at least 8 characters');
  }

  /** The test id of a field id (the same every time for one salt). */
  id(value: string): string {
    const known = this.seen.get(value);
    if (known !== undefined) return known;
    let out = '';
    for (let round = 0; out === '' || this.taken.has(out); round++) out = this.hashed(value, round);
    this.seen.set(value, out);
    this.taken.add(out);
    return out;
  }

  private hashed(value: string, round: number): string {
    const digest = createHmac('sha256', this.salt).update(`${round}:${value}`).digest();
    if (/^\d{4,20}$/.test(value)) {
      const keep = value.length === 15 ? 8 : Math.floor(value.length / 2);
      let digits = '';
      for (let i = 0; digits.length < value.length - keep; i++) digits += String(digest[i % digest.length]! % 10);
      return value.slice(0, keep) + digits;
    }
    return `anon-${digest.toString('hex').slice(0, 16)}`;
  }

  /** An exchange with its device id, task and the ids in its path replaced. */
  exchange(e: Exchange): Exchange {
    const call = recogniseCall(e.method, e.path, e.body);
    const dialect = call ? replayDialect(call.dialect) : undefined;
    let path = e.path;
    if (dialect && call?.device !== undefined) path = dialect.withDevice(path, this.id(call.device));
    if (dialect && call?.task !== undefined) path = dialect.withTask(path, call.task, this.id(call.task));
    for (const name of ['dev_id', 'imei']) {
      const v = queryParam(path, name);
      if (v !== undefined && v !== '' && call?.device === undefined) path = withQueryParam(path, name, this.id(v));
    }
    return {
      ...e,
      path,
      ...(e.device !== undefined ? { device: this.id(e.device) } : {}),
      ...(e.task !== undefined ? { task: this.id(e.task) } : {}),
    };
  }
}

