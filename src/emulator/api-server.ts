/**
The API request pipeline: route, faults (outage, drop, latency, injected error, rate limit), then the
endpoint, then possibly a mid-response drop. Every request is counted exactly once with the status the
client got, or `dropped` when its connection was destroyed.
*/
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type ApiResponse } from './api-response.ts';
import { authenticate } from './authentication.ts';
import { clientIp } from './client-ip.ts';
import { browse, create, list } from './collection-handlers.ts';
import type { Counters } from './counters.ts';
import type { FaultInjector } from './fault-injector.ts';
import { readRequestBody, sendResponse, sendTruncatedResponse } from './http-io.ts';
import { kmsSummary } from './kms-summary.ts';
import { handleTokenRequest } from './oidc-token.ts';
import type { CountedOperation } from './operations.ts';
import { requireFeatures, resolveOrganisation, resolveProject, resolveRegion } from './request-scope.ts';
import { routeOperation, routeRequest, type Route } from './route.ts';
import {
  addVersion,
  deleteSecret,
  destroyVersion,
  getMetadata,
  reveal,
  setPolicy,
} from './secret-handlers.ts';
import type { SecretsContext } from './secrets-context.ts';
import type { EmulatorState } from './state.ts';
import type { ValueLimits } from './values.ts';

export interface ApiServerDependencies {
  readonly state: EmulatorState;
  readonly faults: FaultInjector;
  readonly counters: Counters;
  readonly limits: ValueLimits;
  readonly accessTokenLifetimeSeconds: number;
  /** Aborted on stop, so requests sleeping in injected latency end at once. */
  readonly shutdown: AbortSignal;
}

type SecretsRoute = Extract<Route, { kind: 'collection' | 'secret' }>;

function dispatch(route: SecretsRoute, context: SecretsContext): ApiResponse {
  if (route.kind === 'collection') {
    switch (route.operation) {
      case 'browse':
        return browse(context);
      case 'list':
        return list(context);
      case 'create':
        return create(context);
    }
  }
  switch (route.operation) {
    case 'get':
      return getMetadata(context, route.path);
    case 'setPolicy':
      return setPolicy(context, route.path);
    case 'addVersion':
      return addVersion(context, route.path);
    case 'reveal':
      return reveal(context, route.path);
    case 'destroyVersion':
      return destroyVersion(context, route.path);
    case 'delete':
      return deleteSecret(context, route.path);
  }
}

async function answer(
  deps: ApiServerDependencies,
  route: Route,
  query: URLSearchParams,
  req: IncomingMessage,
): Promise<ApiResponse> {
  if (route.kind === 'unrouted') return { status: route.status, body: { message: route.message } };
  const body = await readRequestBody(req);
  const { state } = deps;
  if (route.kind === 'token') {
    return handleTokenRequest(state, req.headers, body, deps.accessTokenLifetimeSeconds);
  }
  const principal = authenticate(req.headers.authorization, state.directory, state.now());
  const organisation = resolveOrganisation(req.headers, principal, state.directory);
  if (route.kind === 'kmsSummary') return kmsSummary(state.directory, organisation);
  requireFeatures(organisation, ['secrets', 'kms']);
  const region = resolveRegion(route.region, state.directory);
  const project = resolveProject(req.headers, organisation);
  return dispatch(route, {
    state,
    limits: deps.limits,
    principal,
    organisation,
    region,
    scope: { organisation: organisation.identity, project, region: region.slug },
    query,
    body,
    clientIp: clientIp(req),
  });
}

/** Rate-limit buckets are per organisation, whether the header names it by identity or by slug. */
function organisationKey(deps: ApiServerDependencies, req: IncomingMessage): string {
  const header = req.headers['x-organisation-identity'];
  const reference = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  return deps.state.directory.findOrganisation(reference)?.identity ?? reference;
}

/** A fault that answers before the endpoint runs: a response, a drop, or nothing. */
async function faultBeforeEndpoint(
  deps: ApiServerDependencies,
  operation: CountedOperation,
  req: IncomingMessage,
): Promise<ApiResponse | 'drop' | undefined> {
  const { faults } = deps;
  const unavailable = faults.unavailable();
  if (unavailable !== undefined) return unavailable;
  if (faults.drop()) return 'drop';
  const latency = faults.latencyMs(operation);
  if (latency > 0) await sleep(latency, undefined, { signal: deps.shutdown });
  return faults.injectedError(operation) ?? faults.rateLimited(organisationKey(deps, req));
}

async function handle(deps: ApiServerDependencies, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { route, query } = routeRequest(req.method ?? 'GET', req.url ?? '/');
  const operation = routeOperation(route);
  let response: ApiResponse;
  try {
    const fault = await faultBeforeEndpoint(deps, operation, req);
    if (fault === 'drop') {
      deps.counters.record(operation, 'dropped');
      req.socket.destroy();
      return;
    }
    response = fault ?? (await answer(deps, route, query, req));
  } catch (error) {
    if (deps.shutdown.aborted) {
      req.socket.destroy();
      return;
    }
    response =
      error instanceof ApiError
        ? error.toResponse()
        : { status: 500, body: { message: `internal emulator error: ${String(error)}` } };
  }
  if (res.destroyed || req.socket.destroyed) {
    // The client went away (or a refuse outage cut it) while the request waited: nothing is delivered.
    deps.counters.record(operation, 'dropped');
    return;
  }
  if (response.body !== undefined && deps.faults.dropMidResponse()) {
    deps.counters.record(operation, 'dropped');
    sendTruncatedResponse(res, response);
    return;
  }
  deps.counters.record(operation, response.status);
  sendResponse(res, response);
}

export function createApiRequestListener(deps: ApiServerDependencies): RequestListener {
  return (req, res) => {
    void handle(deps, req, res);
  };
}
