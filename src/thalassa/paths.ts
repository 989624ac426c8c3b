/**
Secret paths: `/` first, then letters, digits and `/ _ - . +`, no `//`, no trailing `/`, at most
512 characters (Thalassa's paths-and-naming rules). A path prefix for a flat list may end in `/`.
A secret path also has no `.` or `..` segment: the path goes into the URL, and URL parsers (WHATWG
URL in this client, also percent-encoded; Go's ServeMux on many servers) resolve such segments, so
`/app/../db` would read, or delete, `/db`. The reference does not list this rule; see
docs/thalassa-api.md.
*/
import { InvalidPathError } from './errors/invalid-path-error.ts';

export const maxPathLength = 512;
const allowed = /^\/[A-Za-z0-9/_.+-]*$/;
const notAllowed = /[^A-Za-z0-9/_.+-]/u;
const dotSegment = /(^|\/)\.{1,2}(\/|$)/;

/** Why a path is not a valid secret path, or undefined when it is. */
export function pathProblem(path: string, kind: 'path' | 'prefix' = 'path'): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > maxPathLength) return `is longer than ${maxPathLength} characters`;
  if (!path.startsWith('/')) return 'must start with "/"';
  if (!allowed.test(path)) {
    // Name the offending character (JSON-quoted, so a newline or a space is visible).
    const character = notAllowed.exec(path)?.[0] ?? '';
    return `contains ${JSON.stringify(character)}; only letters, digits and / _ - . + are allowed`;
  }
  if (path.includes('//')) return 'must not contain "//"';
  if (kind === 'path' && path.length > 1 && path.endsWith('/')) return 'must not end with "/"';
  if (kind === 'path' && path === '/') return 'must name a secret, not the root';
  if (kind === 'path' && dotSegment.test(path)) return 'must not contain a "." or ".." segment';
  return undefined;
}

export function assertValidPath(path: string, kind: 'path' | 'prefix' = 'path'): void {
  const problem = pathProblem(path, kind);
  if (problem !== undefined) throw new InvalidPathError(path, problem);
}

/** `/v1/secrets/{region}/secret{path}{suffix}`: the path goes in raw (slashes and `+` kept), as the reference says. */
export function secretResourcePath(region: string, path: string, suffix = ''): string {
  assertValidPath(path);
  return `v1/secrets/${encodeURIComponent(region)}/secret${path}${suffix}`;
}

export function secretsCollectionPath(region: string): string {
  return `v1/secrets/${encodeURIComponent(region)}/secrets`;
}
