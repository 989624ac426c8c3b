/** JSON request bodies validated with the shared wire schemas; any mismatch is a 400 naming the field. */
import type { z } from 'zod';
import { badRequest } from './api-response.ts';
import { parseJson } from './http-io.ts';
import { describeZodError } from './zod-message.ts';

/** `emptyAs` stands in for an absent body on endpoints where the body is optional (reveal). */
export function parseBody<Schema extends z.ZodType>(
  body: Buffer,
  schema: Schema,
  emptyAs?: z.input<Schema>,
): z.output<Schema> {
  const json = parseJson(body);
  const result = schema.safeParse(json === undefined ? emptyAs : json);
  if (!result.success) {
    throw badRequest(
      json === undefined ? 'request body is required' : `invalid request body: ${describeZodError(result.error)}`,
    );
  }
  return result.data;
}
