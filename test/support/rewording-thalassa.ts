import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An error answer of the emulator, as the rewording proxy sees it. */
export interface ErrorAnswer {
  readonly status: number;
  /** The emulator's `message`. */
  readonly message: string;
  readonly method: string;
  /** The request's path and query, e.g. `/v1/secrets/nl-01/secret/app/x`. */
  readonly url: string;
}

/**
What to answer instead: another error body (a string is sent as it is, e.g. HTML, with `contentType`),
or undefined to pass the emulator's answer on unchanged.
*/
export type Rewording = (answer: ErrorAnswer) => { readonly body: unknown; readonly contentType?: string } | undefined;

export interface RewordingThalassa {
  readonly url: string;
  /** Error answers reworded so far. */
  readonly reworded: ErrorAnswer[];
  close(): Promise<void>;
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
A Thalassa API that words its errors differently: a pass-through proxy in front of the emulator
that keeps every status, header and success body, and replaces the body of error answers the
`reword` function picks. The emulator decides what happened (a missing secret, an unknown region,
a disabled feature) and the status; only the wording is a real server's own. Thalassa documents its
statuses but not its messages, so the client must not depend on the emulator's exact strings.
*/
export async function startRewordingThalassa(target: string, reword: Rewording): Promise<RewordingThalassa> {
  const targetUrl = new URL(target);
  const reworded: ErrorAnswer[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const upstream = httpRequest(
        { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          void (async () => {
            const answerBody = await readBody(answer);
            const status = answer.statusCode ?? 502;
            const headers = { ...answer.headers };
            let out = answerBody;
            if (status >= 400) {
              const message = messageOf(answerBody);
              const error = { status, message: message ?? '', method: req.method ?? '', url: req.url ?? '' };
              const replacement = message === undefined ? undefined : reword(error);
              if (replacement) {
                reworded.push(error);
                out = Buffer.from(typeof replacement.body === 'string' ? replacement.body : JSON.stringify(replacement.body));
                headers['content-type'] = replacement.contentType ?? 'application/json';
              }
            }
            delete headers['transfer-encoding'];
            headers['content-length'] = String(out.length);
            res.writeHead(status, headers).end(out);
          })().catch(() => res.destroy());
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reworded,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

function messageOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string'
      ? (parsed as { message: string }).message
      : undefined;
  } catch {
    return undefined;
  }
}
