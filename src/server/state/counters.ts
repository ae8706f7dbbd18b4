/** Request and answer counts for GET /admin/counters; plain integers, cheap on the hot path. */
import { ServiceTimes } from './service-times.js';

export interface EndpointCounts {
  requests: number;
  /** Answer label (`errno:0`, `code:40`, `http:206`, `dropped`, ...) → count. */
  answers: Record<string, number>;
}

export class Counters {
  readonly endpoints = new Map<string, EndpointCounts>();
  bytesServed = 0;
  bansImposed = 0;
  bansLifted = 0;
  readonly faults = { delayed: 0, injectedErrors: 0, stalled: 0, dropped: 0, resets: 0, throttled: 0 };
  /** The server's own service time per endpoint (arrival → last byte written). */
  readonly service = new ServiceTimes();

  private of(endpoint: string): EndpointCounts {
    let c = this.endpoints.get(endpoint);
    if (!c) {
      c = { requests: 0, answers: Object.create(null) as Record<string, number> };
      this.endpoints.set(endpoint, c);
    }
    return c;
  }

  request(endpoint: string): void {
    this.of(endpoint).requests++;
  }

  answer(endpoint: string, label: string): void {
    const answers = this.of(endpoint).answers;
    answers[label] = (answers[label] ?? 0) + 1;
  }
}
