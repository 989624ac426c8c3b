import { describe, expect, it } from 'vitest';
import type { ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import { assertCaBundle, assertSafeUrl, ThalassaClients } from './thalassa-clients.ts';
import { SyncError } from './sync-error.ts';

function store(generation: number, spec: Partial<ThalassaSecretStore['spec']> = {}): ThalassaSecretStore {
  return {
    apiVersion: 'secrets.thalassa.cloud/v1alpha1',
    kind: 'ThalassaSecretStore',
    metadata: { name: 'store', namespace: 'team-a', uid: 'uid-1', generation },
    spec: { organisation: 'org-1', region: 'nl-01', apiURL: 'http://127.0.0.1:9', auth: { personalAccessToken: { secretRef: { name: 't', key: 'k' } } }, ...spec },
  };
}

describe('ThalassaClients', () => {
  it('keeps one client per store and credential, and replaces it when either changes', async () => {
    const replaced: string[] = [];
    const clients = new ThalassaClients({ clientDefaults: {}, defaultRateLimit: { requestsPerSecond: 1, burst: 1 }, onStoreReplaced: (key) => replaced.push(key), closeReplacedAfterMs: 0 });
    const first = clients.clientFor(store(1), { type: 'personalAccessToken', token: 'a' });
    expect(clients.clientFor(store(1), { type: 'personalAccessToken', token: 'a' })).toBe(first);
    expect(first.description).toBe('ThalassaSecretStore/team-a/store');
    const rotated = clients.clientFor(store(1), { type: 'personalAccessToken', token: 'b' });
    expect(rotated.client).not.toBe(first.client);
    const edited = clients.clientFor(store(2), { type: 'personalAccessToken', token: 'b' });
    expect(edited.key).not.toBe(rotated.key);
    expect(replaced).toEqual([first.key, rotated.key]);
    // The key names the store and identifies the credential without holding it.
    expect(first.key).not.toContain('a@');
    await clients.close();
  });

  it('checks the configuration before making a client', () => {
    const clients = new ThalassaClients({ clientDefaults: {}, defaultRateLimit: { requestsPerSecond: 1, burst: 1 } });
    expect(() => clients.clientFor(store(1, { apiURL: 'http://thalassa.example.com' }), { type: 'accessToken', token: 'a' })).toThrow('apiURL must use https');
  });
});

describe('assertSafeUrl', () => {
  it.for([
    ['https://api.thalassa.cloud', false],
    ['http://127.0.0.1:8080', false],
    ['http://localhost:8080', false],
    ['http://[::1]:8080', false],
    ['http://thalassa.internal', true],
  ] as const)('allows %s (allowInsecureHTTP %s)', ([url, insecure]) => {
    expect(() => assertSafeUrl(url, insecure, 'store')).not.toThrow();
  });

  it.for(['http://thalassa.internal', 'ftp://127.0.0.1', 'not a url'])('refuses %s', (url) => {
    expect(() => assertSafeUrl(url, false, 'store')).toThrow(SyncError);
  });
});

describe('assertCaBundle', () => {
  it('accepts no bundle and an empty one', () => {
    expect(() => assertCaBundle(undefined, 'store')).not.toThrow();
    expect(() => assertCaBundle('  \n', 'store')).not.toThrow();
  });

  it('refuses text without a certificate, and a certificate block that cannot be read', () => {
    expect(() => assertCaBundle('just some text', 'store')).toThrow('caBundle holds no PEM certificate');
    expect(() => assertCaBundle('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----', 'store')).toThrow(
      'certificate 1 of caBundle cannot be read',
    );
  });
});
