import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
Paths pino blanks out wherever they appear. The code never logs values or credentials on purpose;
this is the second line of defence against an object logged whole by mistake.
*/
export const redactedPaths = [
  'data',
  'stringData',
  '*.data',
  '*.stringData',
  'value',
  '*.value',
  'values',
  '*.values',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  'clientSecret',
  '*.clientSecret',
  'secretString',
  '*.secretString',
  'secretKeyValues',
  '*.secretKeyValues',
];

export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  readonly destination?: DestinationStream;
  readonly base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? { name: 'thalassa-secrets-operator' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError, error: serializeError },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
Errors are logged as name, message and a few known fields, never with their own enumerable
properties: a Kubernetes ApiException carries the response body and headers, an undici error the
request.
*/
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const out: Record<string, unknown> = { type: error.name, message: safeMessage(error) };
  for (const field of ['status', 'code', 'reason', 'operation', 'retryable'] as const) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[field] = value;
  }
  return out;
}

/** client-node's ApiException message embeds the response body and headers; keep only its first line. */
function safeMessage(error: Error): string {
  const firstLine = error.message.split('\n', 1)[0] ?? '';
  return firstLine.length > 500 ? `${firstLine.slice(0, 500)}...` : firstLine;
}
