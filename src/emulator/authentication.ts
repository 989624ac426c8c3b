/**
Who is calling. Personal access tokens only work as `Token <pat>` and access tokens only as
`Bearer <token>`, which is how Thalassa's own client sends them.
*/
import { unauthorized } from './api-response.ts';
import type { Directory } from './directory.ts';
import type { PrincipalRecord } from './records.ts';

function principalNamed(directory: Directory, name: string | undefined): PrincipalRecord {
  const principal = name === undefined ? undefined : directory.principals.get(name);
  if (principal === undefined) throw unauthorized('invalid credentials');
  return principal;
}

export function authenticate(header: string | undefined, directory: Directory, now: number): PrincipalRecord {
  if (header === undefined || header.trim() === '') throw unauthorized('Authorization header is required');
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header.trim());
  const scheme = match?.[1]?.toLowerCase();
  const credential = match?.[2];
  if (scheme === undefined || credential === undefined) throw unauthorized('malformed Authorization header');
  if (scheme === 'token') return principalNamed(directory, directory.personalAccessTokens.get(credential));
  if (scheme !== 'bearer') throw unauthorized(`unsupported Authorization scheme "${match?.[1] ?? ''}"`);
  const token = directory.accessTokens.get(credential);
  if (token === undefined) {
    if (directory.personalAccessTokens.has(credential)) {
      throw unauthorized('invalid access token (personal access tokens are sent as "Token <pat>")');
    }
    throw unauthorized('invalid access token');
  }
  if (token.expiresAt !== undefined && token.expiresAt <= now) throw unauthorized('access token has expired');
  return principalNamed(directory, token.principal);
}
