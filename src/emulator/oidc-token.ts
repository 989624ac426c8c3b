/**
`POST /oidc/token`: OAuth2 client credentials and RFC 8693 token exchange (workload identity
federation). Errors use the OAuth shape `{error, error_description}`, plus `message` like every other
error of the API.
*/
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, type ApiResponse } from './api-response.ts';
import { decodeJwt, verifyJwtSignature, type DecodedJwt } from './jwt.ts';
import type { FederatedIdentityRecord } from './records.ts';
import type { EmulatorState } from './state.ts';

const clientCredentialsGrant = 'client_credentials';
const tokenExchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const subjectTokenTypes = new Set([
  'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:token-type:id_token',
]);
const lifetimeBounds = { min: 60, max: 86_400 } as const;
/** Sweeping expired tokens on every issue would be wasteful; only once there are this many. */
const pruneThreshold = 10_000;

function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): ApiError {
  return new ApiError(status, description, {
    body: { error, error_description: description, message: description },
    headers: { 'cache-control': 'no-store', ...headers },
  });
}

const invalidRequest = (description: string): ApiError => oauthError(400, 'invalid_request', description);
const invalidGrant = (description: string): ApiError => oauthError(400, 'invalid_grant', description);

function requiredField(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === '') throw invalidRequest(`${name} is required`);
  return value;
}

function issueToken(state: EmulatorState, principal: string, lifetimeSeconds: number): string {
  const { directory } = state;
  if (directory.accessTokens.size >= pruneThreshold) directory.pruneExpiredAccessTokens(state.now());
  const token = `tat_${randomBytes(24).toString('base64url')}`;
  directory.accessTokens.set(token, { principal, expiresAt: state.now() + lifetimeSeconds * 1000 });
  state.changed();
  return token;
}

function basicCredentials(headers: IncomingHttpHeaders): { id: string; secret: string } | undefined {
  const match = /^basic\s+(\S+)$/i.exec(headers.authorization?.trim() ?? '');
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const unescape = (text: string): string => {
    try {
      return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      return text;
    }
  };
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

function clientCredentials(
  state: EmulatorState,
  headers: IncomingHttpHeaders,
  form: URLSearchParams,
  lifetimeSeconds: number,
): ApiResponse {
  const credentials = basicCredentials(headers) ?? {
    id: form.get('client_id') ?? '',
    secret: form.get('client_secret') ?? '',
  };
  const client = state.directory.oidcClients.get(credentials.id);
  if (client?.clientSecret !== credentials.secret || !state.directory.principals.has(client.principal)) {
    throw oauthError(401, 'invalid_client', 'client authentication failed', {
      'www-authenticate': 'Basic realm="thalassa"',
    });
  }
  const accessToken = issueToken(state, client.principal, lifetimeSeconds);
  return tokenResponse({ access_token: accessToken, token_type: 'Bearer', expires_in: lifetimeSeconds });
}

function tokenResponse(body: Record<string, unknown>): ApiResponse {
  return { status: 200, body, headers: { 'cache-control': 'no-store' } };
}

/** Integer seconds; a trailing `s` is tolerated because client-go documents `"39600s"`. */
function parseLifetime(text: string | null, fallback: number): number {
  if (text === null || text === '') return fallback;
  const match = /^(\d{1,6})s?$/.exec(text);
  const seconds = Number(match?.[1] ?? Number.NaN);
  if (!(seconds >= lifetimeBounds.min && seconds <= lifetimeBounds.max)) {
    throw invalidRequest(
      `access_token_lifetime must be whole seconds between ${lifetimeBounds.min} and ${lifetimeBounds.max}`,
    );
  }
  return seconds;
}

function audiences(claims: DecodedJwt['claims']): string[] {
  const aud = claims['aud'];
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((entry): entry is string => typeof entry === 'string') : [];
}

/** Why this federated identity does not accept the token, or undefined when it does. */
function rejection(identity: FederatedIdentityRecord, jwt: DecodedJwt): string | undefined {
  if (!audiences(jwt.claims).some((audience) => identity.audiences.includes(audience))) {
    return 'subject token audience is not accepted';
  }
  if (identity.subject !== undefined && jwt.claims['sub'] !== identity.subject) {
    return 'subject token subject does not match';
  }
  if (identity.issuer !== undefined && jwt.claims['iss'] !== identity.issuer) {
    return 'subject token issuer does not match';
  }
  if (identity.publicKeyPem !== undefined && !verifyJwtSignature(jwt, identity.publicKeyPem)) {
    return 'subject token signature is invalid';
  }
  return undefined;
}

function requireTimely(jwt: DecodedJwt, now: number): void {
  const exp = jwt.claims['exp'];
  if (typeof exp !== 'number') throw invalidGrant('subject token has no exp claim');
  if (exp * 1000 <= now) throw invalidGrant('subject token has expired');
  const nbf = jwt.claims['nbf'];
  if (typeof nbf === 'number' && nbf * 1000 > now) throw invalidGrant('subject token is not valid yet');
}

function tokenExchange(state: EmulatorState, form: URLSearchParams, defaultLifetime: number): ApiResponse {
  const subjectToken = requiredField(form, 'subject_token');
  const subjectTokenType = requiredField(form, 'subject_token_type');
  if (!subjectTokenTypes.has(subjectTokenType)) {
    throw invalidRequest(`unsupported subject_token_type ${subjectTokenType}`);
  }
  const organisationId = requiredField(form, 'organisation_id');
  const serviceAccountId = requiredField(form, 'service_account_id');
  const lifetimeSeconds = parseLifetime(form.get('access_token_lifetime'), defaultLifetime);
  const organisation = state.directory.findOrganisation(organisationId);
  const candidates = state.directory.federatedIdentities.filter(
    (identity) => identity.serviceAccountId === serviceAccountId && identity.organisation === organisation?.identity,
  );
  if (candidates.length === 0) {
    throw invalidGrant(
      `no federated identity for service account ${serviceAccountId} in organisation ${organisationId}`,
    );
  }
  const jwt = decodeJwt(subjectToken);
  if (jwt === undefined) throw invalidGrant('subject token is not a JWT');
  requireTimely(jwt, state.now());
  const reasons = candidates.map((identity) => rejection(identity, jwt));
  const accepted = candidates.find((_, index) => reasons[index] === undefined);
  if (accepted === undefined) throw invalidGrant(reasons[0] ?? 'subject token rejected');
  const accessToken = issueToken(state, accepted.principal, lifetimeSeconds);
  return tokenResponse({
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: lifetimeSeconds,
    issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  });
}

export function handleTokenRequest(
  state: EmulatorState,
  headers: IncomingHttpHeaders,
  body: Buffer,
  defaultLifetimeSeconds: number,
): ApiResponse {
  const form = new URLSearchParams(body.toString('utf8'));
  const grantType = requiredField(form, 'grant_type');
  if (grantType === clientCredentialsGrant) return clientCredentials(state, headers, form, defaultLifetimeSeconds);
  if (grantType === tokenExchangeGrant) return tokenExchange(state, form, defaultLifetimeSeconds);
  throw oauthError(400, 'unsupported_grant_type', `unsupported grant_type ${grantType}`);
}
