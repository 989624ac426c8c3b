/**
The admin endpoint: a separate plain-HTTP listener for tests, the demo and benchmarks. It is never
counted, never faulted and keeps answering during a `refuse` outage of the API listener.
*/
import type { IncomingMessage, RequestListener } from 'node:http';
import type { z } from 'zod';
import {
  adminDestroyVersionSchema,
  adminFeatureSchema,
  adminKmsKeyStatusSchema,
  adminPolicySchema,
  adminPutSecretSchema,
  adminRegionKmsSchema,
  adminSecretSchema,
} from './admin-schemas.ts';
import { ApiError, badRequest, type ApiResponse } from './api-response.ts';
import type { Emulator } from './emulator-types.ts';
import { faultConfigSchema } from './fault-schema.ts';
import { parseJson, readRequestBody, sendResponse } from './http-io.ts';
import { EmulatorInputError } from './input-error.ts';
import { describeZodError } from './zod-message.ts';

/** Seeds and state can be large; the admin endpoint accepts more than the API's 2 MiB. */
const maxAdminBodyBytes = 256 * 1024 * 1024;
const noContent: ApiResponse = { status: 204 };

type AdminHandler = (control: Emulator, body: Buffer) => ApiResponse | Promise<ApiResponse>;

function parse<Schema extends z.ZodType>(body: Buffer, schema: Schema): z.output<Schema> {
  const result = schema.safeParse(parseJson(body) ?? {});
  if (!result.success) throw badRequest(describeZodError(result.error));
  return result.data;
}

const routes: Readonly<Record<string, AdminHandler>> = {
  'GET /healthz': () => ({ status: 200, body: { ok: true } }),
  'GET /counters': (control) => ({ status: 200, body: control.counters() }),
  'POST /counters/reset': (control) => {
    control.resetCounters();
    return noContent;
  },
  'GET /faults': (control) => ({ status: 200, body: control.faults }),
  'PUT /faults': async (control, body) => {
    control.setFaults(parse(body, faultConfigSchema));
    await control.settled();
    return { status: 200, body: control.faults };
  },
  'POST /seed': (control, body) => {
    control.seed(parseJson(body) ?? {});
    return noContent;
  },
  'POST /secrets/put': (control, body) => {
    const { secretStringBase64, secretString, ...rest } = parse(body, adminPutSecretSchema);
    const value = secretStringBase64 === undefined ? secretString : Buffer.from(secretStringBase64, 'base64');
    return { status: 200, body: { version: control.putSecret({ ...rest, secretString: value }) } };
  },
  'POST /secrets/destroy-version': (control, body) => {
    control.destroyVersion(parse(body, adminDestroyVersionSchema));
    return noContent;
  },
  'POST /secrets/delete': (control, body) => {
    control.deleteSecret(parse(body, adminSecretSchema));
    return noContent;
  },
  'POST /secrets/policy': (control, body) => {
    control.setAccessPolicy(parse(body, adminPolicySchema));
    return noContent;
  },
  'POST /kms-keys/status': (control, body) => {
    const { identity, status } = parse(body, adminKmsKeyStatusSchema);
    control.setKmsKeyStatus(identity, status);
    return noContent;
  },
  'POST /regions/kms': (control, body) => {
    const { slug, kms } = parse(body, adminRegionKmsSchema);
    control.setRegionKms(slug, kms);
    return noContent;
  },
  'POST /features': (control, body) => {
    const { organisation, feature, enabled } = parse(body, adminFeatureSchema);
    control.setFeature(organisation, feature, enabled);
    return noContent;
  },
};

async function answer(control: Emulator, req: IncomingMessage): Promise<ApiResponse> {
  const pathname = (req.url ?? '/').split('?')[0] ?? '/';
  const handler = routes[`${req.method ?? 'GET'} ${pathname}`];
  if (handler === undefined) {
    return { status: 404, body: { message: `no admin endpoint ${req.method ?? ''} ${pathname}` } };
  }
  try {
    return await handler(control, await readRequestBody(req, maxAdminBodyBytes));
  } catch (error) {
    if (error instanceof ApiError) return error.toResponse();
    if (error instanceof EmulatorInputError) return { status: 400, body: { message: error.message } };
    return { status: 500, body: { message: `internal emulator error: ${String(error)}` } };
  }
}

export function createAdminRequestListener(control: Emulator): RequestListener {
  return (req, res) => {
    void answer(control, req).then((response) => {
      sendResponse(res, response);
    });
  };
}
