import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AnySecretStore, ClusterThalassaSecretStore, StoreAuth, ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { isNotFound, toKubeApiError } from '../kube/errors.ts';
import { paths, type KubeClient } from '../kube/kube-client.ts';
import type { Logger } from '../observability/logger.ts';
import { ThalassaClient, defaultApiURL, type ThalassaClientOptions } from '../thalassa/client.ts';
import type { ThalassaCredential } from '../thalassa/credentials.ts';
import { matchesSelector } from './label-selector.ts';
import { storeKey, storeOf, type DefaultStore, type StoreIdentity } from './store-ref.ts';
import { reasons, SyncError } from './sync-error.ts';

export const defaultTokenAudience = 'https://api.thalassa.cloud';

/** The operator's own workload identity, from the variables the Thalassa webhook injects. */
export interface OperatorIdentity {
  readonly subjectTokenFile?: string | undefined;
  readonly serviceAccountId?: string | undefined;
}

export interface StoreResolverOptions {
  readonly kube: KubeClient;
  readonly stores: { get(key: string): ThalassaSecretStore | undefined };
  readonly clusterStores: { get(key: string): ClusterThalassaSecretStore | undefined };
  readonly defaultStore: DefaultStore;
  readonly operatorIdentity: OperatorIdentity;
  /** Client settings every store shares (timeouts, retries, metrics hook). */
  readonly clientDefaults: Partial<Omit<ThalassaClientOptions, 'region' | 'organisation' | 'credential'>>;
  /** Rate limit for stores that set none. */
  readonly defaultRateLimit: { readonly requestsPerSecond: number; readonly burst: number };
  readonly credentialTtlMs?: number;
  /** A store's client was replaced (its spec or credentials changed): what was cached under `key` is stale. */
  readonly onStoreReplaced?: (key: string) => void;
  readonly logger: Logger;
}

export interface ResolvedStore {
  /** Changes whenever the store's spec or credentials change: keys caches of versions and values. */
  readonly key: string;
  /** For messages: `ClusterThalassaSecretStore/default`. */
  readonly description: string;
  readonly store: AnySecretStore;
  readonly client: ThalassaClient;
}

interface CachedRead<T> {
  readonly value: T;
  readonly readAt: number;
}

/**
Finds the store of a ThalassaSecret, enforces who may use it, and hands out one Thalassa client
per store and credential, reused by every reconcile (and so sharing its token cache and rate
limit). Credentials are read on demand and cached briefly; a changed credential gives a new client.
*/
export class StoreResolver {
  readonly #options: StoreResolverOptions;
  readonly #clients = new Map<string, ResolvedStore>();
  /** By `namespace/name#key`: the one value a store uses, never the rest of its Secret. */
  readonly #credentials = new Map<string, CachedRead<CredentialRead>>();
  readonly #namespaceLabels = new Map<string, CachedRead<Record<string, string>>>();
  readonly #ttlMs: number;

  constructor(options: StoreResolverOptions) {
    this.#options = options;
    this.#ttlMs = options.credentialTtlMs ?? 60_000;
  }

  /** The store of `resource`, if it may use it; the reason otherwise. */
  async resolveFor(resource: ThalassaSecret): Promise<ResolvedStore> {
    const namespace = resource.metadata.namespace ?? '';
    const { identity, store } = this.#storeOf(resource);
    if (store?.kind === 'ThalassaSecretStore') return await this.clientFor(store);
    if (store) {
      await this.#assertNamespaceAllowed(store, namespace);
      return await this.clientFor(store);
    }
    const implicit = identity.implicit ? ' (the default store: this resource has no storeRef)' : '';
    if (identity.kind === 'ThalassaSecretStore') {
      throw new SyncError(reasons.StoreNotFound, `ThalassaSecretStore ${identity.namespace}/${identity.name} does not exist${implicit}`);
    }
    throw new SyncError(reasons.StoreNotFound, `ClusterThalassaSecretStore ${identity.name} does not exist${implicit}`);
  }

  #storeOf(resource: ThalassaSecret): { identity: StoreIdentity; store: AnySecretStore | undefined } {
    const identity = storeOf(resource, this.#options.defaultStore);
    const store =
      identity.kind === 'ThalassaSecretStore'
        ? this.#options.stores.get(`${identity.namespace}/${identity.name}`)
        : this.#options.clusterStores.get(identity.name);
    return { identity, store };
  }

  /** A client for `store`; throws a SyncError when its configuration or credentials are unusable. */
  async clientFor(store: AnySecretStore): Promise<ResolvedStore> {
    const description = storeDescription(store);
    const credential = await this.#credential(store);
    const fingerprint = credentialFingerprint(credential);
    const key = `${description}@${store.metadata.uid ?? ''}:${store.metadata.generation ?? 0}:${fingerprint}`;
    const cached = this.#clients.get(description);
    if (cached?.key === key) return cached;
    if (cached) this.#options.onStoreReplaced?.(cached.key);
    const spec = store.spec;
    const apiURL = spec.apiURL ?? defaultApiURL;
    assertSafeUrl(apiURL, spec.allowInsecureHTTP === true, description);
    assertCaBundle(spec.caBundle, description);
    const rateLimit = spec.rateLimit
      ? { requestsPerSecond: spec.rateLimit.requestsPerSecond, burst: spec.rateLimit.burst ?? spec.rateLimit.requestsPerSecond }
      : this.#options.defaultRateLimit;
    const client = new ThalassaClient({
      ...this.#options.clientDefaults,
      apiURL,
      region: spec.region,
      organisation: spec.organisation,
      project: spec.project,
      credential,
      rateLimit,
      caBundle: spec.caBundle,
      insecureSkipTlsVerify: spec.insecureSkipTLSVerify,
    });
    const resolved: ResolvedStore = { key, description, store, client };
    this.#clients.set(description, resolved);
    // The old client may still serve a request in flight; close it once that had time to end.
    if (cached) setTimeout(() => void cached.client.close(), 60_000).unref();
    return resolved;
  }

  /**
  Forgets the credentials of the store `resource` uses, so that its next use reads them again:
  after a 401, a credential Secret that was just rotated must not wait out the cache.
  */
  invalidateFor(resource: ThalassaSecret): void {
    const { store } = this.#storeOf(resource);
    if (!store) return;
    for (const secretRef of secretRefs(store.spec.auth)) {
      const namespace = store.kind === 'ClusterThalassaSecretStore' ? (secretRef.namespace ?? '') : (store.metadata.namespace ?? '');
      this.#credentials.delete(credentialKey(namespace, secretRef.name, secretRef.key));
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map(async (resolved) => await resolved.client.close()));
    this.#clients.clear();
  }

  async #assertNamespaceAllowed(store: ClusterThalassaSecretStore, namespace: string): Promise<void> {
    const conditions = store.spec.conditions;
    if (!conditions || conditions.length === 0) return;
    if (conditions.some((c) => c.namespaces?.includes(namespace))) return;
    if (conditions.some((c) => c.namespaceSelector)) {
      const labels = await this.#labelsOf(namespace);
      if (conditions.some((c) => c.namespaceSelector && matchesSelector(c.namespaceSelector, labels))) return;
    }
    throw new SyncError(
      reasons.StoreNotAllowed,
      `ClusterThalassaSecretStore ${store.metadata.name} does not allow namespace ${namespace} (see its spec.conditions)`,
    );
  }

  async #labelsOf(namespace: string): Promise<Record<string, string>> {
    const cached = this.#namespaceLabels.get(namespace);
    if (cached && Date.now() - cached.readAt < this.#ttlMs) return cached.value;
    const object = await this.#options.kube.get<{ metadata?: { labels?: Record<string, string> } }>(paths.namespace(namespace));
    const labels = object.metadata?.labels ?? {};
    this.#namespaceLabels.set(namespace, { value: labels, readAt: Date.now() });
    return labels;
  }

  async #credential(store: AnySecretStore): Promise<ThalassaCredential> {
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
    throw new SyncError(reasons.InvalidStore, `${storeDescription(store)} has no auth method`);
  }

  #workloadIdentity(store: AnySecretStore, identity: NonNullable<StoreAuth['workloadIdentity']>): ThalassaCredential {
    const operator = this.#options.operatorIdentity;
    if (store.kind === 'ThalassaSecretStore') assertOwnIdentity(store, identity);
    const serviceAccountId = identity.serviceAccountID ?? operator.serviceAccountId;
    if (!serviceAccountId) {
      throw new SyncError(
        reasons.InvalidStore,
        `${storeDescription(store)}: workloadIdentity needs serviceAccountID (or the operator's THALASSA_SERVICE_ACCOUNT_ID)`,
      );
    }
    const ref = identity.serviceAccountRef;
    if (!ref) {
      const file = operator.subjectTokenFile;
      if (!file) {
        throw new SyncError(
          reasons.InvalidStore,
          `${storeDescription(store)}: workloadIdentity without serviceAccountRef uses the operator's own token, but THALASSA_SUBJECT_TOKEN_FILE is not set`,
        );
      }
      return { type: 'tokenExchange', serviceAccountId, subjectToken: async () => (await readFile(file, 'utf8')).trim() };
    }
    const namespace = credentialNamespace(store, ref.namespace);
    const kube = this.#options.kube;
    return {
      type: 'tokenExchange',
      serviceAccountId,
      // A fresh short-lived token for every exchange: nothing long-lived is kept.
      subjectToken: async () => {
        const request = await kube
          .create<{ status?: { token?: string } }>(paths.serviceAccountToken(namespace, ref.name), {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { audiences: ref.audiences ?? [defaultTokenAudience], expirationSeconds: 600 },
          })
          .catch((error: unknown) => {
          const kubeError = toKubeApiError(error);
          throw new SyncError(
            reasons.CredentialsNotFound,
            `cannot mint a token for ServiceAccount ${namespace}/${ref.name}: ${kubeError?.message ?? String(error)}`,
          );
        });
        const token = request.status?.token;
        if (!token) throw new SyncError(reasons.CredentialsNotFound, `TokenRequest for ${namespace}/${ref.name} returned no token`);
        return token;
      },
    };
  }

  async #secretValue(namespace: string, name: string, key: string): Promise<string> {
    const secretName = `${namespace}/${name}`;
    const cacheKey = credentialKey(namespace, name, key);
    let cached = this.#credentials.get(cacheKey);
    if (!cached || Date.now() - cached.readAt > this.#ttlMs) {
      const read = await this.#options.kube.get<{ data?: Record<string, string> }>(paths.secret(namespace, name)).then(
        (secret): CredentialRead => {
          const encoded = secret.data?.[key];
          return encoded === undefined ? { found: 'secret' } : { found: 'value', value: Buffer.from(encoded, 'base64').toString('utf8').trim() };
        },
        (error: unknown): CredentialRead => {
          if (isNotFound(error)) return { found: 'nothing' };
          throw new SyncError(reasons.CredentialsNotFound, `cannot read Secret ${secretName}: ${toKubeApiError(error)?.message ?? String(error)}`);
        },
      );
      cached = { value: read, readAt: Date.now() };
      this.#credentials.set(cacheKey, cached);
    }
    const read = cached.value;
    if (read.found === 'nothing') throw new SyncError(reasons.CredentialsNotFound, `credential Secret ${secretName} does not exist`);
    if (read.found === 'secret') throw new SyncError(reasons.CredentialsNotFound, `credential Secret ${secretName} has no key "${key}"`);
    if (read.value === '') throw new SyncError(reasons.CredentialsNotFound, `key "${key}" of credential Secret ${secretName} is empty`);
    return read.value;
  }
}

/** For messages and as the key of its client: `ClusterThalassaSecretStore/default`, `ThalassaSecretStore/ns/name`. */
export function storeDescription(store: AnySecretStore): string {
  return storeKey(store);
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
    throw new SyncError(reasons.InvalidStore, `${storeDescription(store)}: a namespaced store can only use Secrets of its own namespace, not ${refNamespace}`);
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
    `${storeDescription(store)}: workloadIdentity of a namespaced store must set ${missing.join(' and ')}: only cluster stores may use the operator's own identity`,
  );
}

/** What reading one key of a credential Secret found. */
type CredentialRead = { readonly found: 'nothing' } | { readonly found: 'secret' } | { readonly found: 'value'; readonly value: string };

function credentialKey(namespace: string, name: string, key: string): string {
  return `${namespace}/${name}#${key}`;
}

function secretRefs(auth: StoreAuth): { name: string; key: string; namespace?: string | undefined }[] {
  return [auth.personalAccessToken?.secretRef, auth.accessToken?.secretRef, auth.clientCredentials?.clientSecretRef].filter(
    (ref): ref is NonNullable<typeof ref> => ref !== undefined,
  );
}

/** Identifies a credential without keeping it: a changed token yields a different client. */
function credentialFingerprint(credential: ThalassaCredential): string {
  const material =
    credential.type === 'personalAccessToken' || credential.type === 'accessToken'
      ? `${credential.type}:${credential.token}`
      : credential.type === 'clientCredentials'
        ? `${credential.type}:${credential.clientId}:${credential.clientSecret}`
        : `${credential.type}:${credential.serviceAccountId}`;
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Secrets travel over this URL: plain http only to this machine, unless the store insists. */
export function assertSafeUrl(apiURL: string, allowInsecureHttp: boolean, description: string): void {
  let url: URL;
  try {
    url = new URL(apiURL);
  } catch {
    throw new SyncError(reasons.InvalidStore, `${description}: apiURL is not a URL`);
  }
  if (url.protocol === 'https:') return;
  const loopback = loopbackHosts.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol === 'http:' && (loopback || allowInsecureHttp)) return;
  throw new SyncError(
    reasons.InvalidStore,
    `${description}: apiURL must use https (plain http is only allowed for a loopback address or with allowInsecureHTTP: true)`,
  );
}

const pemCertificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
A caBundle replaces the system's trust. One that holds no readable certificate trusts nothing, and
every request would then fail as if the server were at fault ("certificate not trusted"), so the
store says what is wrong instead. An empty caBundle counts as none, as the transport treats it.
*/
export function assertCaBundle(caBundle: string | undefined, description: string): void {
  if (caBundle === undefined || caBundle.trim() === '') return;
  const blocks = caBundle.match(pemCertificate) ?? [];
  if (blocks.length === 0) throw new SyncError(reasons.InvalidStore, `${description}: caBundle holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new SyncError(reasons.InvalidStore, `${description}: certificate ${i + 1} of caBundle cannot be read`);
    }
  });
}
