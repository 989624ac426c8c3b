/**
Secret paths: `/` first, then letters, digits and `/ _ - . +`, no `//`, no trailing `/`, at most
512 characters (Thalassa's paths-and-naming rules). A path prefix for a flat list may end in `/`.
*/
import { InvalidPathError } from './errors/invalid-path-error.ts';

export const maxPathLength = 512;
const allowed = /^\/[A-Za-z0-9/_.+-]*$/;

/** Why a path is not a valid secret path, or undefined when it is. */
export function pathProblem(path: string, kind: 'path' | 'prefix' = 'path'): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > maxPathLength) return `is longer than ${maxPathLength} characters`;
  if (!path.startsWith('/')) return 'must start with "/"';
  if (!allowed.test(path)) return 'may only contain letters, digits and / _ - . +';
  if (path.includes('//')) return 'must not contain "//"';
  if (kind === 'path' && path.length > 1 && path.endsWith('/')) return 'must not end with "/"';
  if (kind === 'path' && path === '/') return 'must name a secret, not the root';
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
