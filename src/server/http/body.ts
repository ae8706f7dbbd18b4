/** Request bodies, bounded: over the limit is 413, and what the client still sends is drained then cut. */
import type { IncomingMessage } from 'node:http';

export const BODY_LIMIT_BYTES = 64 * 1024;
/** After a 413, bytes read and discarded before the connection is cut. */
const DRAIN_LIMIT_BYTES = 32 * 1024 * 1024;

export type BodyResult = Buffer | 'too-large' | 'aborted';

export function readBody(req: IncomingMessage, limit = BODY_LIMIT_BYTES): Promise<BodyResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: BodyResult): void => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const declared = Number(req.headers['content-length']);
    let tooLarge = Number.isFinite(declared) && declared > limit;
    if (tooLarge) settle('too-large');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) {
        if (size > DRAIN_LIMIT_BYTES) req.destroy();
        return;
      }
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        settle('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', () => settle('aborted'));
    req.on('close', () => settle(req.complete ? Buffer.concat(chunks) : 'aborted'));
  });
}

/** A JSON object body, or undefined when it is not one. */
export function parseJsonObject(body: Buffer | undefined): Record<string, unknown> | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
