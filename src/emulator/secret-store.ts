/** Secrets indexed per scope, then by path, so every lookup is two Map reads and a list scans one scope. */
import type { SecretRecord, SecretScope } from './records.ts';

function scopeKey(scope: SecretScope): string {
  return `${scope.organisation}\u0000${scope.project ?? ''}\u0000${scope.region}`;
}

export class SecretStore {
  readonly #scopes = new Map<string, Map<string, SecretRecord>>();

  get(scope: SecretScope, path: string): SecretRecord | undefined {
    return this.#scopes.get(scopeKey(scope))?.get(path);
  }

  inScope(scope: SecretScope): Iterable<SecretRecord> {
    return this.#scopes.get(scopeKey(scope))?.values() ?? [];
  }

  add(record: SecretRecord): void {
    const key = scopeKey(record.scope);
    let secrets = this.#scopes.get(key);
    if (secrets === undefined) {
      secrets = new Map();
      this.#scopes.set(key, secrets);
    }
    secrets.set(record.path, record);
  }

  remove(scope: SecretScope, path: string): boolean {
    return this.#scopes.get(scopeKey(scope))?.delete(path) ?? false;
  }

  *all(): Iterable<SecretRecord> {
    for (const secrets of this.#scopes.values()) yield* secrets.values();
  }
}
