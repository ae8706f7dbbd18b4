/**
 * nginx / Apache "combined" access logs: `addr - user [time] "METHOD path HTTP/x" status bytes
 * "referer" "agent"`, for servers that keep no device log. What such a line cannot say: the request
 * body, the Range asked (rebuilt from the bytes a device already got), JSON codes (only the status
 * and bytes are compared), and the device of a download (the device that checked its token).
 */
import { ConfigError } from '../../config/load.js';
import { withoutSecrets, type Exchange } from '../exchange.js';

const COMBINED = /^(\S+) \S+ (\S+) \[([^\]]+)\] "([A-Z]{3,7}) (\S+)(?: [^"]*)?" (\d{3}) (\d+|-)(?: "[^"]*" "[^"]*")?/;
const MONTHS: Readonly<Record<string, number>> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const TIME_LOCAL = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))? ([+-])(\d{2})(\d{2})$/;

/** `10/Oct/2000:13:55:36 -0700` (and a `.123` ms part, as some formats add) as ms since the epoch. */
export function timeLocalOf(s: string): number | undefined {
  const m = TIME_LOCAL.exec(s);
  if (!m) return undefined;
  const month = MONTHS[m[2]!];
  if (month === undefined) return undefined;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), Number((m[7] ?? '0').padEnd(3, '0')));
  const offset = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) * 60_000;
  return utc - offset;
}

export function parseNginx(text: string, file: string): Exchange[] {
  const out: Exchange[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const where = `${file}:${i + 1}`;
    const m = COMBINED.exec(line);
    if (!m) throw new ConfigError(`${where}: not a combined access log line (addr - user [time] "METHOD path HTTP/x" status bytes ...)`);
    const t = timeLocalOf(m[3]!);
    if (t === undefined) throw new ConfigError(`${where}: time: "${m[3]}" is not dd/Mon/yyyy:hh:mm:ss +zzzz`);
    const path = m[5]!;
    if (!path.startsWith('/')) throw new ConfigError(`${where}: request: "${path}" does not start with /`);
    const status = Number(m[6]);
    const bytes = m[7] === '-' ? 0 : Number(m[7]);
    // 499: nginx's "the client closed the connection before the answer": nothing reached the device.
    const answer = status === 499 ? { net: 'CLIENT_CLOSED' } : { status, bytes };
    out.push({ where, t, method: m[4]!, path: withoutSecrets(path), ...answer });
  }
  return out;
}
