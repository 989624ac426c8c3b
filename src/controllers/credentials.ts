/**
A store's Thalassa credential: the one key of a credential Secret it names (cached briefly, never
the rest of the Secret), or for workload identity a short-lived ServiceAccount token minted for
each exchange. Failures keep their kind: a credential that does not exist is CredentialsNotFound,
one the operator may not read is CredentialsForbidden, and a throttled or failing API server is a
transient failure that says nothing about the credential (src/controllers/kube-failure.ts).
*/
import { readFile } from 'node:fs/promises';
import type { AnySecretStore, StoreAuth, ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import { isNotFound, toKubeApiError } from '../kube/errors.ts';
import { paths, type KubeClient } from '../kube/kube-client.ts';
import type { ThalassaCredential } from '../thalassa/credentials.ts';
import { kubeMessage, readFailure, transientKubeFailure } from './kube-failure.ts';
import { storeKey } from './store-ref.ts';
import { reasons, SyncError } from './sync-error.ts';

export const defaultTokenAudience = 'https://api.thalassa.cloud';

/** The operator's own workload identity, from the variables the Thalassa webhook injects. */
export interface OperatorIdentity {
  readonly subjectTokenFile?: string | undefined;
  readonly serviceAccountId?: string | undefined;
}

export interface CredentialsOptions {
  readonly kube: KubeClient;
  readonly operatorIdentity: OperatorIdentity;
  /** How long a value read from a credential Secret is reused (default 60 s). */
  readonly ttlMs?: number | undefined;
  readonly now?: () => number;
}

/** What reading one key of a credential Secret found. Failures are not cached: the next use asks again. */
type CredentialRead = { readonly found: 'nothing' } | { readonly found: 'secret' } | { readonly found: 'value'; readonly value: string };

export class Credentials {
  readonly #options: CredentialsOptions;
  /** By `namespace/name#key`: the one value a store uses, never the rest of its Secret. */
  readonly #cache = new Map<string, { readonly read: CredentialRead; readonly readAt: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: CredentialsOptions) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The credential of `store`; throws a SyncError when it cannot be had (and says why). */
  async credentialFor(store: AnySecretStore): Promise<ThalassaCredential> {
    const auth = store.spec.auth;
    const namespaceOf = (ref: { namespace?: string | undefined }) => credentialNamespace(store, ref.namespace);
    if (auth.personalAccessToken) {
      const ref = auth.personalAccessToken.secretRef;
      return { type: 'personalAccessToken', token: await this.#secretValue(namespaceOf(ref), ref.name, ref.key) };
    }
    if (auth.accessToken) {
      const ref = auth.accessToken.secretRef;
      return { type: 'accessToken', token: await this.#secretValue(namespaceOf(ref), ref.name, ref.key) };
    }
    if (auth.clientCredentials) {
      const ref = auth.clientCredentials.clientSecretRef;
      return {
        type: 'clientCredentials',
        clientId: auth.clientCredentials.clientID,
        clientSecret: await this.#secretValue(namespaceOf(ref), ref.name, ref.key),
        ...(auth.clientCredentials.scopes ? { scopes: auth.clientCredentials.scopes } : {}),
      };
    }
    if (auth.workloadIdentity) return this.#workloadIdentity(store, auth.workloadIdentity);
    throw new SyncError(reasons.InvalidStore, `${storeKey(store)} has no auth method`);
  }

  /**
  Forgets what was read for `store`, so that its next use reads it again: after a 401, a credential
  Secret that was just rotated must not wait out the cache.
  */
  invalidate(store: AnySecretStore): void {
    for (const ref of secretRefs(store.spec.auth)) {
      const namespace = store.kind === 'ClusterThalassaSecretStore' ? (ref.namespace ?? '') : (store.metadata.namespace ?? '');
      this.#cache.delete(cacheKey(namespace, ref.name, ref.key));
    }
  }

  #workloadIdentity(store: AnySecretStore, identity: NonNullable<StoreAuth['workloadIdentity']>): ThalassaCredential {
    const operator = this.#options.operatorIdentity;
    if (store.kind === 'ThalassaSecretStore') assertOwnIdentity(store, identity);
    const serviceAccountId = identity.serviceAccountID ?? operator.serviceAccountId;
    if (!serviceAccountId) {
      throw new SyncError(reasons.InvalidStore, `${storeKey(store)}: workloadIdentity needs serviceAccountID (or the operator's THALASSA_SERVICE_ACCOUNT_ID)`);
    }
    const ref = identity.serviceAccountRef;
    if (!ref) {
      const file = operator.subjectTokenFile;
      if (!file) {
        throw new SyncError(
          reasons.InvalidStore,
          `${storeKey(store)}: workloadIdentity without serviceAccountRef uses the operator's own token, but THALASSA_SUBJECT_TOKEN_FILE is not set`,
        );
      }
      return { type: 'tokenExchange', serviceAccountId, subjectToken: async () => (await readFile(file, 'utf8')).trim() };
    }
    const namespace = credentialNamespace(store, ref.namespace);
    const audiences = ref.audiences ?? [defaultTokenAudience];
    // A fresh short-lived token for every exchange: nothing long-lived is kept.
    return { type: 'tokenExchange', serviceAccountId, subjectToken: async () => await this.#mintToken(namespace, ref.name, audiences) };
  }

  async #mintToken(namespace: string, name: string, audiences: readonly string[]): Promise<string> {
    const what = `ServiceAccount ${namespace}/${name}`;
    const request = await this.#options.kube
      .create<{ status?: { token?: string } }>(paths.serviceAccountToken(namespace, name), {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences, expirationSeconds: 600 },
      })
      .catch((error: unknown) => {
        const transient = transientKubeFailure(error, `minting a token for ${what}`);
        if (transient) throw transient;
        const code = toKubeApiError(error)?.code;
        const message = `cannot mint a token for ${what}: ${kubeMessage(error)}`;
        if (code === 404) throw new SyncError(reasons.CredentialsNotFound, message, { cause: error });
        if (code === 403) throw new SyncError(reasons.CredentialsForbidden, message, { cause: error });
        // 400, 422: the TokenRequest the store describes (its audiences) is refused.
        if (code === 400 || code === 422) throw new SyncError(reasons.InvalidStore, message, { cause: error });
        throw new SyncError(reasons.ReadFailed, `Kubernetes API: ${message}`, { cause: error });
      });
    const token = request.status?.token;
    if (!token) throw new SyncError(reasons.CredentialsNotFound, `TokenRequest for ${namespace}/${name} returned no token`);
    return token;
  }

  async #secretValue(namespace: string, name: string, key: string): Promise<string> {
    const secretName = `${namespace}/${name}`;
    const entryKey = cacheKey(namespace, name, key);
    let cached = this.#cache.get(entryKey);
    if (!cached || this.#now() - cached.readAt > this.#ttlMs) {
      const read = await this.#options.kube.get<{ data?: Record<string, string> }>(paths.secret(namespace, name)).then(
        (secret): CredentialRead => {
          const encoded = secret.data?.[key];
          return encoded === undefined ? { found: 'secret' } : { found: 'value', value: Buffer.from(encoded, 'base64').toString('utf8').trim() };
        },
        (error: unknown): CredentialRead => {
          if (isNotFound(error)) return { found: 'nothing' };
          if (toKubeApiError(error)?.code === 403) {
            throw new SyncError(reasons.CredentialsForbidden, `the operator may not read credential Secret ${secretName}: ${kubeMessage(error)}`, { cause: error });
          }
          throw readFailure(error, `credential Secret ${secretName}`);
        },
      );
      cached = { read, readAt: this.#now() };
      this.#cache.set(entryKey, cached);
    }
    const read = cached.read;
    if (read.found === 'nothing') throw new SyncError(reasons.CredentialsNotFound, `credential Secret ${secretName} does not exist`);
    if (read.found === 'secret') throw new SyncError(reasons.CredentialsNotFound, `credential Secret ${secretName} has no key "${key}"`);
    if (read.value === '') throw new SyncError(reasons.CredentialsNotFound, `key "${key}" of credential Secret ${secretName} is empty`);
    return read.value;
  }
}

/**
Where a store's credential lives. A namespaced store reads only its own namespace: admission refuses
a namespace in its refs, and this holds even for an object stored before that rule existed, or
written around it, since the operator reads with cluster-wide rights.
*/
function credentialNamespace(store: AnySecretStore, refNamespace: string | undefined): string {
  if (store.kind === 'ClusterThalassaSecretStore') return refNamespace ?? '';
  const own = store.metadata.namespace ?? '';
  if (refNamespace !== undefined && refNamespace !== own) {
    throw new SyncError(reasons.InvalidStore, `${storeKey(store)}: a namespaced store can only use Secrets of its own namespace, not ${refNamespace}`);
  }
  return own;
}

/**
Only a cluster store may borrow the operator's own Thalassa identity (its service account ID or its
projected token): a namespaced store names both its Thalassa service account and its Kubernetes
ServiceAccount. Admission refuses such a store; this holds for one stored before those rules.
*/
function assertOwnIdentity(store: ThalassaSecretStore, identity: NonNullable<StoreAuth['workloadIdentity']>): void {
  const missing = [identity.serviceAccountID === undefined ? 'serviceAccountID' : undefined, identity.serviceAccountRef ? undefined : 'serviceAccountRef'].filter(
    (field): field is string => field !== undefined,
  );
  if (missing.length === 0) return;
  throw new SyncError(
    reasons.InvalidStore,
    `${storeKey(store)}: workloadIdentity of a namespaced store must set ${missing.join(' and ')}: only cluster stores may use the operator's own identity`,
  );
}

function cacheKey(namespace: string, name: string, key: string): string {
  return `${namespace}/${name}#${key}`;
}

function secretRefs(auth: StoreAuth): { name: string; key: string; namespace?: string | undefined }[] {
  return [auth.personalAccessToken?.secretRef, auth.accessToken?.secretRef, auth.clientCredentials?.clientSecretRef].filter(
    (ref): ref is NonNullable<typeof ref> => ref !== undefined,
  );
}
