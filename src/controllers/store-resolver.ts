import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AnySecretStore, ClusterThalassaSecretStore, StoreAuth, ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import type { StoreRef, ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { isNotFound, toKubeApiError } from '../kube/errors.ts';
import { paths, type KubeClient } from '../kube/kube-client.ts';
import type { Logger } from '../observability/logger.ts';
import { ThalassaClient, defaultApiURL, type ThalassaClientOptions } from '../thalassa/client.ts';
import type { ThalassaCredential } from '../thalassa/credentials.ts';
import { matchesSelector } from './label-selector.ts';
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
  readonly defaultStore: { readonly kind: StoreRef['kind']; readonly name: string };
  readonly operatorIdentity: OperatorIdentity;
  /** Client settings every store shares (timeouts, retries, metrics hook). */
  readonly clientDefaults: Partial<Omit<ThalassaClientOptions, 'region' | 'organisation' | 'credential'>>;
  /** Rate limit for stores that set none. */
  readonly defaultRateLimit: { readonly requestsPerSecond: number; readonly burst: number };
  readonly credentialTtlMs?: number;
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
  readonly #credentials = new Map<string, CachedRead<Record<string, string> | undefined>>();
  readonly #namespaceLabels = new Map<string, CachedRead<Record<string, string>>>();
  readonly #ttlMs: number;

  constructor(options: StoreResolverOptions) {
    this.#options = options;
    this.#ttlMs = options.credentialTtlMs ?? 60_000;
  }

  /** The store of `resource`, if it may use it; the reason otherwise. */
  async resolveFor(resource: ThalassaSecret): Promise<ResolvedStore> {
    const namespace = resource.metadata.namespace ?? '';
    const ref = resource.spec.storeRef ?? this.#options.defaultStore;
    const kind = ref.kind ?? 'ThalassaSecretStore';
    if (kind === 'ThalassaSecretStore') {
      const store = this.#options.stores.get(`${namespace}/${ref.name}`);
      if (!store) throw new SyncError(reasons.StoreNotFound, `ThalassaSecretStore ${namespace}/${ref.name} does not exist`);
      return await this.clientFor(store);
    }
    const store = this.#options.clusterStores.get(ref.name);
    if (!store) {
      const implicit = resource.spec.storeRef ? '' : ' (the default store: this resource has no storeRef)';
      throw new SyncError(reasons.StoreNotFound, `ClusterThalassaSecretStore ${ref.name} does not exist${implicit}`);
    }
    await this.#assertNamespaceAllowed(store, namespace);
    return await this.clientFor(store);
  }

  /** A client for `store`; throws a SyncError when its configuration or credentials are unusable. */
  async clientFor(store: AnySecretStore): Promise<ResolvedStore> {
    const description = storeDescription(store);
    const credential = await this.#credential(store);
    const fingerprint = credentialFingerprint(credential);
    const key = `${description}@${store.metadata.uid ?? ''}:${store.metadata.generation ?? 0}:${fingerprint}`;
    const cached = this.#clients.get(description);
    if (cached?.key === key) return cached;
    const spec = store.spec;
    const apiURL = spec.apiURL ?? defaultApiURL;
    assertSafeUrl(apiURL, spec.allowInsecureHTTP === true, description);
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

  /** Forgets the credentials of `store`, so that the next use reads them again (after a 401). */
  invalidate(store: AnySecretStore): void {
    for (const ref of secretRefs(store.spec.auth)) this.#credentials.delete(`${ref.namespace ?? store.metadata.namespace ?? ''}/${ref.name}`);
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
    const namespaceOf = (ref: { namespace?: string | undefined }) => ref.namespace ?? store.metadata.namespace ?? '';
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
    const namespace = ref.namespace ?? store.metadata.namespace ?? '';
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
    const cacheKey = `${namespace}/${name}`;
    let cached = this.#credentials.get(cacheKey);
    if (!cached || Date.now() - cached.readAt > this.#ttlMs) {
      const data = await this.#options.kube.get<{ data?: Record<string, string> }>(paths.secret(namespace, name)).then(
        (secret) => secret.data ?? {},
        (error: unknown) => {
          if (isNotFound(error)) return undefined;
          throw new SyncError(reasons.CredentialsNotFound, `cannot read Secret ${cacheKey}: ${toKubeApiError(error)?.message ?? String(error)}`);
        },
      );
      cached = { value: data, readAt: Date.now() };
      this.#credentials.set(cacheKey, cached);
    }
    if (!cached.value) throw new SyncError(reasons.CredentialsNotFound, `credential Secret ${cacheKey} does not exist`);
    const encoded = cached.value[key];
    if (encoded === undefined) throw new SyncError(reasons.CredentialsNotFound, `credential Secret ${cacheKey} has no key "${key}"`);
    const value = Buffer.from(encoded, 'base64').toString('utf8').trim();
    if (value === '') throw new SyncError(reasons.CredentialsNotFound, `key "${key}" of credential Secret ${cacheKey} is empty`);
    return value;
  }
}

export function storeDescription(store: AnySecretStore): string {
  return store.kind === 'ClusterThalassaSecretStore'
    ? `ClusterThalassaSecretStore/${store.metadata.name}`
    : `ThalassaSecretStore/${store.metadata.namespace ?? ''}/${store.metadata.name}`;
}

function secretRefs(auth: StoreAuth): { name: string; namespace?: string | undefined }[] {
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
