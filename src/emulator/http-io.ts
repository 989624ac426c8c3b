/** Reading request bodies and writing JSON answers on plain `node:http` objects. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, type ApiResponse } from './api-response.ts';

/** Larger request bodies are answered with 413. */
export const maxRequestBodyBytes = 2 * 1024 * 1024;

/**
The whole body, or a 413 ApiError when it is too large. An oversized body is still read to the end
(and thrown away) so the client gets the 413 instead of a reset connection while it is still sending.
*/
export async function readRequestBody(req: IncomingMessage, limit = maxRequestBodyBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size <= limit) chunks.push(bytes);
  }
  if (size > limit) {
    throw new ApiError(413, `request body exceeds ${limit} bytes`, { headers: { connection: 'close' } });
  }
  return Buffer.concat(chunks, size);
}

interface EncodedResponse {
  readonly headers: Record<string, string | number>;
  readonly payload: Buffer | undefined;
}

function encodeResponse(response: ApiResponse): EncodedResponse {
  const payload = response.body === undefined ? undefined : Buffer.from(JSON.stringify(response.body));
  const headers: Record<string, string | number> = { ...response.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  return { headers, payload };
}

export function sendResponse(res: ServerResponse, response: ApiResponse): void {
  const { headers, payload } = encodeResponse(response);
  res.writeHead(response.status, headers);
  res.end(payload);
}

/**
Sends the status line, the headers and the first half of the body, then destroys the socket: the
client sees a response whose body read fails part way.
*/
export function sendTruncatedResponse(res: ServerResponse, response: ApiResponse): void {
  const { headers, payload } = encodeResponse(response);
  res.writeHead(response.status, headers);
  const part = payload === undefined ? Buffer.alloc(0) : payload.subarray(0, Math.floor(payload.length / 2));
  res.write(part, () => res.socket?.destroy());
}

/** Parses a JSON body; an empty body yields undefined. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new ApiError(400, 'request body is not valid JSON');
  }
}
