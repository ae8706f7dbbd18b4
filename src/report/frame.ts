/**
 * A run folder framed on stdout (`run --report-stdout`), for clusters with no shared volume: the
 * shard's report.json, violations.jsonl and finals.jsonl, gzipped, base64 in 76-character lines
 * between two marker lines, so `kubectl logs` carries them and `ota-swarm merge` reads them back
 * from the saved logs. A frame whose byte count or checksum does not match (a log cut short) is
 * refused, never half-read. Pure: text in, text out.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

const BEGIN = '-----BEGIN OTA-SWARM RUN-----';
const END = '-----END OTA-SWARM RUN-----';
const LINE = 76;

/** The files of one run folder, by name. */
export type RunFiles = Record<string, string>;

/** Only these names are framed or unpacked: a frame never names a path. */
export const FRAMED_FILES = ['report.json', 'violations.jsonl', 'finals.jsonl'] as const;

export function frameRun(files: RunFiles): string {
  const kept: RunFiles = {};
  for (const name of FRAMED_FILES) if (files[name] !== undefined) kept[name] = files[name];
  const body = gzipSync(Buffer.from(JSON.stringify(kept), 'utf8')).toString('base64');
  const sha = createHash('sha256').update(body).digest('hex');
  const lines = [`${BEGIN} ${JSON.stringify({ chars: body.length, sha256: sha })}`];
  for (let i = 0; i < body.length; i += LINE) lines.push(body.slice(i, i + LINE));
  lines.push(END);
  return `${lines.join('\n')}\n`;
}

/**
 * Every frame in a log text (one per shard, when the logs of several pods are saved together).
 * Lines may carry a prefix (`kubectl logs --prefix`): the marker is found anywhere in its line, a
 * body line is its last word. A broken frame is reported by its position, not skipped silently.
 */
export function unframeRuns(text: string): ({ files: RunFiles } | { problem: string })[] {
  const out: ({ files: RunFiles } | { problem: string })[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const at = (lines[i] as string).indexOf(BEGIN);
    if (at < 0) continue;
    const where = `frame at line ${i + 1}`;
    let header: { chars?: unknown; sha256?: unknown };
    try {
      header = JSON.parse((lines[i] as string).slice(at + BEGIN.length).trim()) as typeof header;
    } catch {
      out.push({ problem: `${where}: unreadable header` });
      continue;
    }
    const parts: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !(lines[j] as string).includes(END) && !(lines[j] as string).includes(BEGIN); j++) {
      const word = (lines[j] as string).trim().split(/\s+/).pop() ?? '';
      if (word !== '') parts.push(word);
    }
    i = j - 1;
    if (j >= lines.length || !(lines[j] as string).includes(END)) {
      out.push({ problem: `${where}: no end marker (the log was cut short)` });
      continue;
    }
    i = j;
    const body = parts.join('');
    if (body.length !== header.chars || createHash('sha256').update(body).digest('hex') !== header.sha256) {
      out.push({ problem: `${where}: ${body.length} characters, checksum ${body.length === header.chars ? 'wrong' : `expected ${String(header.chars)} characters`}: the frame is damaged` });
      continue;
    }
    try {
      const files = JSON.parse(gunzipSync(Buffer.from(body, 'base64')).toString('utf8')) as RunFiles;
      const kept: RunFiles = {};
      for (const name of FRAMED_FILES) if (typeof files[name] === 'string') kept[name] = files[name];
      out.push({ files: kept });
    } catch (err) {
      out.push({ problem: `${where}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
    }
  }
  return out;
}
