/**
One Thalassa client per store and credential, reused by every reconcile and poll (and so sharing
its OIDC token cache and rate limit). A store whose spec or credential changed gets a new client;
the old one is closed once requests in flight had time to end. A store's configuration is checked
before any client is made: its URL (no plain http to another machine) and its CA bundle.
*/
import { createHash, X509Certificate } from 'node:crypto';
import type { AnySecretStore } from '../api/v1alpha1/secret-store.ts';
import { ThalassaClient, defaultApiURL, type ThalassaClientOptions } from '../thalassa/client.ts';
import type { ThalassaCredential } from '../thalassa/credentials.ts';
import { storeKey } from './store-ref.ts';
import { reasons, SyncError } from './sync-error.ts';

export interface ResolvedStore {
  /** Changes whenever the store's spec or credentials change: keys caches of versions and values. */
  readonly key: string;
  /** For messages: `ClusterThalassaSecretStore/default`. */
  readonly description: string;
  readonly store: AnySecretStore;
  readonly client: ThalassaClient;
}

export interface ThalassaClientsOptions {
  /** Client settings every store shares (timeouts, retries, metrics hook). */
  readonly clientDefaults: Partial<Omit<ThalassaClientOptions, 'region' | 'organisation' | 'credential'>>;
  /** Rate limit for stores that set none. */
  readonly defaultRateLimit: { readonly requestsPerSecond: number; readonly burst: number };
  /** A store's client was replaced (its spec or credentials changed): what was cached under `key` is stale. */
  readonly onStoreReplaced?: ((key: string) => void) | undefined;
  /** How long a replaced client stays open for requests in flight (default 60 s). */
  readonly closeReplacedAfterMs?: number | undefined;
}

export class ThalassaClients {
  readonly #options: ThalassaClientsOptions;
  /** By store description: the current client of each store. */
  readonly #clients = new Map<string, ResolvedStore>();

  constructor(options: ThalassaClientsOptions) {
    this.#options = options;
  }

  /** The client of `store` with `credential`: the current one, or a new one replacing it. */
  clientFor(store: AnySecretStore, credential: ThalassaCredential): ResolvedStore {
    const description = storeDescription(store);
    const key = `${description}@${store.metadata.uid ?? ''}:${store.metadata.generation ?? 0}:${credentialFingerprint(credential)}`;
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
    if (cached) setTimeout(() => void cached.client.close(), this.#options.closeReplacedAfterMs ?? 60_000).unref();
    return resolved;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map(async (resolved) => await resolved.client.close()));
    this.#clients.clear();
  }
}

/** For messages and as the key of its client: `ClusterThalassaSecretStore/default`, `ThalassaSecretStore/ns/name`. */
export function storeDescription(store: AnySecretStore): string {
  return storeKey(store);
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
