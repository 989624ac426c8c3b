/**
A kubeconfig's `proxy-url`: connections to the API server go through an HTTP or HTTPS proxy as a
CONNECT tunnel (TLS to the API server runs inside it, end to end). SOCKS proxies are refused at
start-up (connection.ts).
*/
import type { ClientRequestArgs } from 'node:http';
import { Agent as HttpAgent, type AgentOptions as HttpAgentOptions } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export const proxyProtocols = ['http:', 'https:'] as const;
const maxResponseHead = 16 * 1024;

type Callback = (error: Error | null, stream: Duplex) => void;

/** The proxy URL without its credentials, for messages. */
export function redactedProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** Opens a CONNECT tunnel to host:port through `proxy`, and hands over the socket once the proxy said 200. */
export function openTunnel(proxy: URL, host: string, port: number, done: (error: Error | null, socket?: Socket) => void): void {
  const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const socket: Socket = proxy.protocol === 'https:' ? tlsConnect({ host: proxyHost, port: proxyPort, servername: proxyHost }) : netConnect({ host: proxyHost, port: proxyPort });
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const authorization = proxy.username
    ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
    : '';
  let settled = false;
  const fail = (error: Error): void => {
    if (settled) return;
    settled = true;
    socket.destroy();
    done(error);
  };
  socket.once('error', (error) => fail(new Error(`proxy ${redactedProxy(proxy)}: ${error.message}`, { cause: error })));
  socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${authorization}\r\n`);
  });
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) {
      if (head.length > maxResponseHead) fail(new Error(`proxy ${redactedProxy(proxy)}: no answer to CONNECT`));
      return;
    }
    socket.off('data', onData);
    const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    if (status !== 200) {
      fail(new Error(`proxy ${redactedProxy(proxy)} refused CONNECT ${target}: ${statusLine || 'no status line'}`));
      return;
    }
    settled = true;
    socket.removeAllListeners('error');
    const rest = head.subarray(end + 4);
    if (rest.length > 0) socket.unshift(rest);
    done(null, socket);
  };
  socket.on('data', onData);
  socket.once('end', () => fail(new Error(`proxy ${redactedProxy(proxy)} closed the connection during CONNECT ${target}`)));
}

/** An https.Agent whose connections are tunnels through `proxy`; TLS to the API server is inside. */
export class HttpsTunnelAgent extends HttpsAgent {
  readonly #proxy: URL;

  constructor(proxy: URL, options: HttpsAgentOptions) {
    super(options);
    this.#proxy = proxy;
  }

  override createConnection(options: ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    const host = options.host ?? options.hostname ?? 'localhost';
    openTunnel(this.#proxy, host, Number(options.port ?? 443), (error, socket) => {
      if (error || !socket) {
        callback?.(error ?? new Error('no tunnel'), undefined as unknown as Duplex);
        return;
      }
      const secure = tlsConnect({ ...(options as ConnectionOptions), socket, host });
      callback?.(null, secure);
    });
    return undefined;
  }
}

/** The same for a plain-http API server (tests, a local proxy): the tunnel is the connection. */
export class HttpTunnelAgent extends HttpAgent {
  readonly #proxy: URL;

  constructor(proxy: URL, options: HttpAgentOptions) {
    super(options);
    this.#proxy = proxy;
  }

  override createConnection(options: ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    openTunnel(this.#proxy, options.host ?? options.hostname ?? 'localhost', Number(options.port ?? 80), (error, socket) => {
      if (error || !socket) callback?.(error ?? new Error('no tunnel'), undefined as unknown as Duplex);
      else callback?.(null, socket);
    });
    return undefined;
  }
}
