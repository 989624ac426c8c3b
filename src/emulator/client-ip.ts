/** The client address access policies judge: X-Forwarded-For (first hop), then X-Real-IP, then the socket. */
import type { IncomingMessage } from 'node:http';

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function normalise(address: string): string {
  const trimmed = address.trim();
  return trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice('::ffff:'.length) : trimmed;
}

export function clientIp(req: IncomingMessage): string {
  const forwarded = firstHeader(req.headers['x-forwarded-for'])?.split(',')[0];
  if (forwarded !== undefined && forwarded.trim() !== '') return normalise(forwarded);
  const realIp = firstHeader(req.headers['x-real-ip']);
  if (realIp !== undefined && realIp.trim() !== '') return normalise(realIp);
  return normalise(req.socket.remoteAddress ?? '');
}
