/**
 * A client of the reference server's admin API: discovering keys and comparing final states.
 * Loopback or the user's own target only; the bearer token is never logged.
 */
import { request } from 'undici';

export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await request(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`admin ${method} ${path}: HTTP ${res.statusCode}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`admin ${method} ${path}: answer is not JSON`);
    }
  }
}
