import ky, { type KyInstance } from 'ky';
import type { Dispatcher } from 'undici';
import { NetworkError, socketErrorCode } from './errors/network-error.ts';

export interface TransportOptions {
  readonly apiURL: string;
  readonly userAgent: string;
  readonly timeoutMs: number;
  /** PEM bundle trusted in addition to nothing else: when set, only these CAs verify the server. */
  readonly caBundle?: string | undefined;
  /** Skips TLS verification; only for explicitly insecure stores. */
  readonly insecureSkipTlsVerify?: boolean | undefined;
}

export interface TransportRequest {
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to the API URL, without a leading slash. */
  readonly path: string;
  readonly searchParams?: Record<string, string>;
  readonly json?: unknown;
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal | undefined;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

type FetchFunction = (input: Request) => Promise<Response>;

/**
A store's own connection pool, made only for stores with their own TLS settings (a CA bundle, or
no verification): those need an undici dispatcher, which Node's built-in fetch (a different
undici major) refuses, so the npm undici and its fetch carry them. It is loaded on first use:
undici costs about 28 MiB of memory, and most stores use the system's trust and Node's fetch.
*/
async function customTlsFetch(options: TransportOptions): Promise<{ fetch: FetchFunction; dispatcher: Dispatcher }> {
  const { Agent, fetch } = await import('undici');
  const dispatcher = new Agent({
    connections: 32,
    keepAliveTimeout: 30_000,
    connect: {
      ...(options.caBundle ? { ca: options.caBundle } : {}),
      ...(options.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
    },
  });
  const send: FetchFunction = async (request) =>
    await fetch(request.url, {
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: request.body,
      duplex: 'half',
      signal: request.signal,
      redirect: 'manual',
      dispatcher,
    });
  return { fetch: send, dispatcher };
}

/**
HTTP for one store. ky builds the requests and the transport enforces the per-attempt deadline;
Node's fetch carries them, or the store's own pool when it has TLS settings of its own.
*/
export class HttpTransport {
  readonly #ky: KyInstance;
  readonly #custom: Promise<{ fetch: FetchFunction; dispatcher: Dispatcher }> | undefined;
  readonly #timeoutMs: number;

  constructor(options: TransportOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#custom = options.caBundle || options.insecureSkipTlsVerify ? customTlsFetch(options) : undefined;
    const custom = this.#custom;
    this.#ky = ky.create({
      baseUrl: options.apiURL.endsWith('/') ? options.apiURL : `${options.apiURL}/`,
      // The deadline is the transport's own (see send), covering the body read too.
      timeout: false,
      retry: 0,
      throwHttpErrors: false,
      headers: { 'user-agent': options.userAgent, accept: 'application/json' },
      fetch: async (input, init) => {
        const request = input instanceof Request ? input : new Request(input, init);
        return custom ? await (await custom).fetch(request) : await fetch(request, { redirect: 'manual' });
      },
    });
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    // One deadline for the whole attempt, body included. ky's own timeout ends once the headers are
    // in when the body is read from the awaited response, so a server that stalls mid-body would
    // hold the call (and a reconcile) forever.
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      deadline.abort();
    }, this.#timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline.signal]) : deadline.signal;
    try {
      const response = await this.#ky(request.path, {
        method: request.method,
        ...(request.searchParams ? { searchParams: request.searchParams } : {}),
        ...(request.json !== undefined ? { json: request.json } : {}),
        ...(request.form ? { body: new URLSearchParams(request.form) } : {}),
        ...(request.headers ? { headers: request.headers } : {}),
        signal,
      });
      return { status: response.status, headers: response.headers, body: await response.text() };
    } catch (error) {
      if (request.signal?.aborted) throw error;
      // Undici and socket failures arrive as ky's NetworkError or as a TypeError from the body read.
      throw new NetworkError(request.operation, { timedOut: deadline.signal.aborted, code: socketErrorCode(error) });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await (await this.#custom)?.dispatcher.close();
  }
}
