/**
One HTTP(S) listener that can be taken down and brought back on the same port, for the `refuse`
outage: while down, connections are refused by the kernel, exactly like a crashed server.
*/
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface ListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsMaterial | undefined;
}

const relistenRetryMs = 100;

function createServer(listener: RequestListener, tls: TlsMaterial | undefined): Server {
  const server = tls === undefined ? createHttpServer(listener) : createHttpsServer({ ...tls }, listener);
  // Benchmarks hold many keep-alive connections; the default 5 s would churn them under latency faults.
  server.keepAliveTimeout = 30_000;
  return server;
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}

export class Listener {
  readonly #listener: RequestListener;
  readonly #options: ListenerOptions;
  readonly #port: number;
  /** The server that should be up; undefined while refusing or after stop. */
  #server: Server | undefined;
  /** Closes and re-listens still in flight, for `settled()` and `stop()`. */
  #transition: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(listener: RequestListener, options: ListenerOptions, server: Server, port: number) {
    this.#listener = listener;
    this.#options = options;
    this.#server = server;
    this.#port = port;
  }

  static async start(listener: RequestListener, options: ListenerOptions): Promise<Listener> {
    const server = createServer(listener, options.tls);
    const port = await listen(server, options.host, options.port);
    return new Listener(listener, options, server, port);
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const host = this.#options.host.includes(':') ? `[${this.#options.host}]` : this.#options.host;
    return `${this.#options.tls === undefined ? 'http' : 'https'}://${host}:${this.#port}`;
  }

  /** Resolves once the last refuse or resume has fully taken effect. */
  async settled(): Promise<void> {
    await this.#transition;
  }

  /**
  Stops accepting and cuts every open connection, keep-alive ones included. Both happen before this
  returns, so the very next connection attempt is refused.
  */
  refuse(): void {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    // A server still binding is closed by #listenUntilBound once it is bound.
    if (server.listening) this.#track(close(server));
  }

  /** Listens again on the same port. Binding starts before this returns; it is retried while the port is busy. */
  resume(): void {
    if (this.#server !== undefined || this.#stopped) return;
    const server = createServer(this.#listener, this.#options.tls);
    this.#server = server;
    this.#track(this.#listenUntilBound(server));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const server = this.#server;
    this.#server = undefined;
    if (server?.listening === true) this.#track(close(server));
    await this.#transition;
  }

  #track(work: Promise<void>): void {
    const previous = this.#transition;
    this.#transition = (async () => {
      await previous;
      await work;
    })();
  }

  async #listenUntilBound(server: Server): Promise<void> {
    while (this.#server === server) {
      try {
        await listen(server, this.#options.host, this.#port);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, relistenRetryMs));
      }
    }
    if (this.#server !== server && server.listening) await close(server);
  }
}
