/** IAM as Thalassa documents it: actions on the `secret` resource type, resources are paths or `prefix*`. */
import { forbidden } from './api-response.ts';
import type { Action, PermissionRecord, PrincipalRecord } from './records.ts';

function resourceMatches(pattern: string, path: string): boolean {
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  return pattern === path;
}

function grants(permission: PermissionRecord, action: Action): boolean {
  return permission.actions.has(action) || permission.actions.has('*');
}

export function isAllowed(principal: PrincipalRecord, action: Action, path: string): boolean {
  return principal.permissions.some(
    (permission) =>
      grants(permission, action) &&
      (permission.resources.length === 0 || permission.resources.some((pattern) => resourceMatches(pattern, path))),
  );
}

/** Browse and list need `list` on some resource; what they return is then filtered by `read`. */
export function mayList(principal: PrincipalRecord): boolean {
  return principal.permissions.some((permission) => grants(permission, 'list'));
}

export function requireAllowed(principal: PrincipalRecord, action: Action, path: string): void {
  if (!isAllowed(principal, action, path)) throw forbidden(`permission denied: ${action} on ${path}`);
}
