/**
 * What a handler decides to answer, as data; http/core.ts does the writing (and the faults).
 * `label` is the outcome as counted and shown in a device's history.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { History } from '../state/history.js';
import type { Query } from './query.js';

export type Answer =
  | { readonly kind: 'json'; readonly status: number; readonly body: string; readonly label: string }
  | { readonly kind: 'file'; readonly status: 200 | 206; readonly bytes: Buffer; readonly headers: OutgoingHttpHeaders; readonly label: string }
  /** The download's one-byte error body, sent without Content-Length. */
  | { readonly kind: 'byte'; readonly code: number; readonly label: string };

/** Whose history a call goes into. */
export interface HistoryOwner {
  history: History | undefined;
  readonly known: boolean;
}

export interface Outcome {
  readonly answer: Answer;
  readonly owner?: HistoryOwner | undefined;
  /** Short form of the request for the history. */
  readonly summary?: string;
}

export interface RequestContext {
  readonly method: string;
  readonly path: string;
  readonly query: Query;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer | undefined;
  /** The path parameter of prefix routes (a token, an admin id). */
  readonly param: string;
}

export const json = (status: number, value: unknown, label = `http:${status}`): Answer => ({
  kind: 'json',
  status,
  body: typeof value === 'string' ? value : JSON.stringify(value),
  label,
});
