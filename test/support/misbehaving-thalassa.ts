import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
A Thalassa API that answers with what the real one never should, for the answers the emulator
cannot give: a value that is not base64, an answer about another path or version, a body that is
not JSON, a redirect to plain http, an error message that echoes the request's credential. What it
does depends on the secret path: `/<behaviour>/...`.

| behaviour | answer to a reveal |
|---|---|
| `bad-base64` | 200 with a `secretString` that is not base64 |
| `other-path` | 200 for another path than the one asked |
| `other-version` | 200 with version 2 whatever version was asked |
| `not-json` | 200 with an HTML page |
| `redirect` | 302 to a plain-http URL elsewhere |
| `echo-token` | 403 whose message repeats the Authorization header |

Metadata reads answer `{path, currentVersion: 1}` and lists `[]`, so polls do not interfere.
*/
export class MisbehavingThalassa {
  readonly url: string;
  /** Authorization headers received, to check which credential was sent. */
  readonly authorizations: string[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<MisbehavingThalassa> {
    const server = createServer((req, res) => {
      void answer(req, res, instance);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const instance = new MisbehavingThalassa(server);
    return instance;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, server: MisbehavingThalassa): Promise<void> {
  for await (const _chunk of req) {
    // The body is not needed; reading it keeps the connection usable.
  }
  server.authorizations.push(req.headers.authorization ?? '');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const match = /^\/v1\/secrets\/[^/]+\/secret(\/.*)$/.exec(url.pathname);
  if (!match?.[1]) {
    json(200, []);
    return;
  }
  if (req.method === 'GET') {
    json(200, { path: match[1], currentVersion: 1 });
    return;
  }
  const path = match[1].replace(/\/value$/, '');
  const behaviour = path.split('/')[1] ?? '';
  switch (behaviour) {
    case 'bad-base64':
      json(200, { path, version: 1, secretString: '%%% this is not base64 %%%' });
      return;
    case 'other-path':
      json(200, { path: '/somewhere/else', version: 1, secretString: Buffer.from('misdirected').toString('base64') });
      return;
    case 'other-version':
      json(200, { path, version: 2, secretString: Buffer.from('not the pinned version').toString('base64') });
      return;
    case 'not-json':
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Maintenance</body></html>');
      return;
    case 'redirect':
      res.writeHead(302, { location: `http://thalassa.example.com${url.pathname}` }).end();
      return;
    case 'echo-token':
      json(403, { message: `permission denied for credential "${req.headers.authorization ?? ''}" (${req.headers.authorization ?? ''})` });
      return;
    default:
      json(404, { message: `secret not found: ${path}` });
  }
}
