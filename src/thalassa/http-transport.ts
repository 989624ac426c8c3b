import ky, { type KyInstance } from 'ky';
import type { Dispatcher } from 'undici';

export interface TransportOptions {
  readonly apiURL: string;
  readonly userAgent: string;
  /** ky's per-attempt timeout: headers and, because `send` reads it inside the attempt, the whole body. */
  readonly timeoutMs: number;
  /** PEM bundle trusted in addition to nothing else: when set, only these CAs verify the server. */
  readonly caBundle?: string | undefined;
  /** Skips TLS verification; only for explicitly insecure stores. */
  readonly insecureSkipTlsVerify?: boolean | undefined;
}

/** Called once per HTTP attempt, with the status (or `'error'` when no whole answer came) and the time it took. */
export type AttemptObserver = (status: number | 'error', durationMs: number) => void;

type FetchFunction = (input: Request) => Promise<Response>;

/** Statuses whose response must not have a body (the Response constructor refuses one). */
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

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
HTTP for one store: a ky instance (base URL, User-Agent, Accept, the per-attempt timeout, HTTP
errors thrown as ky's `HTTPError`) whose fetch is Node's, or the store's own pool when it has TLS
settings of its own. Retries, hooks and schemas are per call (client.ts, token-source.ts).
*/
export class HttpTransport {
  readonly ky: KyInstance;
  readonly #custom: Promise<{ fetch: FetchFunction; dispatcher: Dispatcher }> | undefined;

  constructor(options: TransportOptions) {
    this.#custom = options.caBundle || options.insecureSkipTlsVerify ? customTlsFetch(options) : undefined;
    this.ky = ky.create({
      baseUrl: options.apiURL.endsWith('/') ? options.apiURL : `${options.apiURL}/`,
      timeout: options.timeoutMs,
      retry: 0,
      headers: { 'user-agent': options.userAgent, accept: 'application/json' },
    });
  }

  /**
  The `fetch` for ky to call once per attempt. It reads the whole body before it resolves, so that
  ky's per-attempt timeout covers the body too (ky's own body-read timeout starts after the last
  attempt, and a body that fails or stalls there is not retried), and a body cut off half-way is
  a network error of that attempt, which ky retries like any other. The body is read as bytes and
  handed on as that same Uint8Array: an ArrayBuffer would be copied by the Response constructor,
  and a list of a 10,000-secret prefix is megabytes, held twice at every poll.
  */
  fetch(observe?: AttemptObserver): (input: Request | URL | string, init?: RequestInit) => Promise<Response> {
    const custom = this.#custom;
    return async (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const started = performance.now();
      let status: number | 'error' = 'error';
      try {
        const answer = custom ? await (await custom).fetch(request) : await fetch(request, { redirect: 'manual' });
        const body = await answer.bytes();
        status = answer.status;
        return new Response(nullBodyStatuses.has(answer.status) ? null : body, {
          status: answer.status,
          statusText: answer.statusText,
          headers: answer.headers,
        });
      } finally {
        observe?.(status, performance.now() - started);
      }
    };
  }

  async close(): Promise<void> {
    await (await this.#custom)?.dispatcher.close();
  }
}
