/** Turning the one-of value payload of create and add-version into stored bytes, with the size rules. */
import { randomBytes } from 'node:crypto';
import { badRequest } from './api-response.ts';
import type { StoredValue } from './records.ts';

export type KeyValueEncoding = 'raw' | 'base64';

export interface ValueLimits {
  /** Decoded bytes per version; for key/value the sum of key and value bytes. */
  readonly maxValueBytes: number;
  readonly maxKeys: number;
  readonly keyValueEncoding: KeyValueEncoding;
}

export interface ValuePayload {
  readonly secretString?: string | undefined;
  readonly secretKeyValues?: Readonly<Record<string, string>> | undefined;
  readonly generateSecret?: { readonly byteLength: number } | undefined;
}

export const generateSecretBounds = { min: 16, max: 4096 } as const;

const base64Shape = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding and zero pad bits, or undefined: Node's own decoder accepts far too much. */
export function decodeStrictBase64(text: string): Buffer | undefined {
  if (!base64Shape.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

function decodedLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

function sizeLimitError(size: number, limits: ValueLimits): Error {
  return badRequest(`secret value of ${size} bytes exceeds the size limit of ${limits.maxValueBytes} bytes`);
}

function decodeSecretString(text: string, limits: ValueLimits): StoredValue {
  const bytes = decodeStrictBase64(text);
  if (bytes === undefined) throw badRequest('secretString is not valid base64 (standard alphabet, with padding)');
  if (bytes.length > limits.maxValueBytes) throw sizeLimitError(bytes.length, limits);
  return { format: 'string', bytes };
}

function decodeKeyValues(entries: Readonly<Record<string, string>>, limits: ValueLimits): StoredValue {
  const keys = Object.keys(entries);
  if (keys.length === 0) throw badRequest('secretKeyValues must contain at least one key');
  if (keys.length > limits.maxKeys) {
    throw badRequest(`secretKeyValues has ${keys.length} keys, more than the limit of ${limits.maxKeys}`);
  }
  let size = 0;
  for (const [key, value] of Object.entries(entries)) {
    if (key === '') throw badRequest('secretKeyValues keys must not be empty');
    size += Buffer.byteLength(key);
    if (limits.keyValueEncoding === 'base64') {
      if (decodeStrictBase64(value) === undefined) {
        throw badRequest(`secretKeyValues value of key "${key}" is not valid base64`);
      }
      size += decodedLength(value);
    } else {
      size += Buffer.byteLength(value);
    }
  }
  if (size > limits.maxValueBytes) throw sizeLimitError(size, limits);
  return { format: 'keyValue', entries: { ...entries } };
}

/** Validates the one-of payload; every failure is a 400 with a message naming the rule. */
export function decodeValuePayload(payload: ValuePayload, limits: ValueLimits): StoredValue {
  const given = [payload.secretString, payload.secretKeyValues, payload.generateSecret].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw badRequest('exactly one of secretString, secretKeyValues or generateSecret is required');
  }
  if (payload.secretString !== undefined) return decodeSecretString(payload.secretString, limits);
  if (payload.secretKeyValues !== undefined) return decodeKeyValues(payload.secretKeyValues, limits);
  const byteLength = payload.generateSecret?.byteLength ?? 0;
  if (byteLength < generateSecretBounds.min || byteLength > generateSecretBounds.max) {
    throw badRequest(
      `generateSecret.byteLength must be between ${generateSecretBounds.min} and ${generateSecretBounds.max}`,
    );
  }
  if (byteLength > limits.maxValueBytes) throw sizeLimitError(byteLength, limits);
  return { format: 'string', bytes: randomBytes(byteLength) };
}
