/**
Maps method and raw URL to an operation. The secret path sits raw after `/secret` (slashes and `+`
literal), so the endpoint is told apart by method and suffix; `?path=` is the documented alternative.
*/
import type { Operation } from './operations.ts';

export type SecretOperation = 'get' | 'setPolicy' | 'addVersion' | 'reveal' | 'destroyVersion' | 'delete';

export type Route =
  | { readonly kind: 'token' }
  | { readonly kind: 'kmsSummary' }
  | { readonly kind: 'collection'; readonly operation: 'browse' | 'list' | 'create'; readonly region: string }
  | {
      readonly kind: 'secret';
      readonly operation: SecretOperation;
      readonly region: string;
      /** Raw, not yet validated. */
      readonly path: string;
    }
  | { readonly kind: 'unrouted'; readonly status: 400 | 404 | 405; readonly message: string };

export interface RoutedRequest {
  readonly route: Route;
  readonly query: URLSearchParams;
}

export function routeOperation(route: Route): Operation | 'unrouted' {
  switch (route.kind) {
    case 'token':
      return 'token';
    case 'kmsSummary':
      return 'kmsSummary';
    case 'collection':
    case 'secret':
      return route.operation;
    case 'unrouted':
      return 'unrouted';
  }
}

const secretsPrefix = '/v1/secrets/';

function decodePathname(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function withoutSuffix(path: string, suffix: string): string | undefined {
  return path.endsWith(suffix) ? path.slice(0, -suffix.length) : undefined;
}

/** `/secret{path}{suffix}`: the suffix only counts for the method that owns it. */
function routeEmbeddedPath(method: string, region: string, rest: string, query: URLSearchParams): Route {
  const secret = (operation: SecretOperation, path: string): Route => ({ kind: 'secret', operation, region, path });
  switch (method) {
    case 'GET':
      return secret('get', rest);
    case 'PUT': {
      const path = withoutSuffix(rest, '/policy');
      return path === undefined
        ? { kind: 'unrouted', status: 405, message: 'PUT is only supported on {path}/policy' }
        : secret('setPolicy', path);
    }
    case 'POST': {
      const revealPath = withoutSuffix(rest, '/value');
      if (revealPath !== undefined) return secret('reveal', revealPath);
      const versionsPath = withoutSuffix(rest, '/versions');
      if (versionsPath !== undefined) return secret('addVersion', versionsPath);
      return { kind: 'unrouted', status: 405, message: 'POST is only supported on {path}/value and {path}/versions' };
    }
    case 'DELETE': {
      const versionsPath = withoutSuffix(rest, '/versions');
      return versionsPath !== undefined && query.has('version')
        ? secret('destroyVersion', versionsPath)
        : secret('delete', rest);
    }
    default:
      return { kind: 'unrouted', status: 405, message: `method ${method} is not allowed` };
  }
}

const queryFormOperations: Readonly<Record<string, SecretOperation>> = {
  'GET ': 'get',
  'DELETE ': 'delete',
  'PUT /policy': 'setPolicy',
  'POST /value': 'reveal',
  'POST /versions': 'addVersion',
  'DELETE /versions': 'destroyVersion',
};

function routeSecret(method: string, region: string, rest: string, query: URLSearchParams): Route {
  const queryPath = query.get('path');
  const queryForm = queryPath === null ? undefined : queryFormOperations[`${method} ${rest}`];
  if (queryPath !== null && queryForm !== undefined) {
    return { kind: 'secret', operation: queryForm, region, path: queryPath };
  }
  return routeEmbeddedPath(method, region, rest, query);
}

function routeSecrets(method: string, pathname: string, query: URLSearchParams): Route {
  const afterPrefix = pathname.slice(secretsPrefix.length);
  const slash = afterPrefix.indexOf('/');
  if (slash <= 0) return { kind: 'unrouted', status: 404, message: `no endpoint at ${pathname}` };
  const region = afterPrefix.slice(0, slash);
  const rest = afterPrefix.slice(slash);
  if (rest === '/secrets') {
    if (method === 'GET') return { kind: 'collection', operation: query.has('path') ? 'browse' : 'list', region };
    if (method === 'POST') return { kind: 'collection', operation: 'create', region };
    return { kind: 'unrouted', status: 405, message: `method ${method} is not allowed on ${pathname}` };
  }
  if (rest === '/secret' || rest.startsWith('/secret/')) {
    return routeSecret(method, region, rest.slice('/secret'.length), query);
  }
  return { kind: 'unrouted', status: 404, message: `no endpoint at ${pathname}` };
}

export function routeRequest(method: string, rawUrl: string): RoutedRequest {
  const questionMark = rawUrl.indexOf('?');
  const rawPathname = questionMark === -1 ? rawUrl : rawUrl.slice(0, questionMark);
  const query = new URLSearchParams(questionMark === -1 ? '' : rawUrl.slice(questionMark + 1));
  const pathname = decodePathname(rawPathname);
  if (pathname === undefined) {
    return { route: { kind: 'unrouted', status: 400, message: 'malformed percent-encoding in URL path' }, query };
  }
  if (pathname === '/oidc/token') {
    return {
      route: method === 'POST' ? { kind: 'token' } : { kind: 'unrouted', status: 405, message: 'use POST' },
      query,
    };
  }
  if (pathname === '/v1/kms/summary') {
    return {
      route: method === 'GET' ? { kind: 'kmsSummary' } : { kind: 'unrouted', status: 405, message: 'use GET' },
      query,
    };
  }
  if (pathname.startsWith(secretsPrefix)) return { route: routeSecrets(method, pathname, query), query };
  return { route: { kind: 'unrouted', status: 404, message: `no endpoint at ${pathname}` }, query };
}
