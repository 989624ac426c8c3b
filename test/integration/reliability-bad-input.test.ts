import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThalassaSecretSpec } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { reasons } from '../../src/controllers/sync-error.ts';
import { createNamespace, deleteNamespace, isStatus, waitFor } from '../support/kube.ts';
import { MisbehavingThalassa } from '../support/misbehaving-thalassa.ts';
import { group, OperatorHarness, operatorToken, organisation, region } from '../support/operator-harness.ts';
import { listResources, snapshotSecrets, waitForReasons, type SecretSnapshot } from '../support/reliability.ts';

/**
Input that passes admission (the CRDs' OpenAPI and CEL rules) and is still wrong at run time: the
store, its credentials, Thalassa's answers, the data, the target Secret. Every case must end in its
documented Ready reason, with nothing written and nothing lost: a Secret that was good before the
mistake keeps its data and its resourceVersion. The cases run together against one operator.
*/

const canary = 'CANARY-BADINPUT-5e2b';
const strangerToken = `stranger-token-${canary}`;
const revokedToken = `revoked-token-${canary}`;
const wrongClientSecret = `wrong-client-secret-${canary}`;

interface Case {
  /** The ThalassaSecret that must report `reason`. */
  readonly name: string;
  readonly reason: string;
  /** A substring of the Ready message: the reason says what is wrong, the message says where. */
  readonly message?: string;
  readonly spec: ThalassaSecretSpec;
  /** Runs before the resource exists (stores, Secrets, other resources). */
  readonly prepare?: () => Promise<void>;
  /**
  When set, the spec above is good: the resource is synced first, then this makes it bad, and the
  Secret it wrote must stay exactly as it was.
  */
  readonly breakIt?: () => Promise<void>;
  /** The Secret to check (default: the resource's name): absent, or untouched since prepare/sync. */
  readonly secret: { readonly name?: string; readonly state: 'absent' | 'untouched' };
}

describe('bad input that admission cannot catch', () => {
  let h: OperatorHarness;
  let misbehaving: MisbehavingThalassa;
  let doomed: string;
  const data = (path: string, extra: Record<string, unknown> = {}) => ({ data: [{ key: 'value', path, ...extra }] });
  const on = (store: string, path = '/bad/plain'): ThalassaSecretSpec => ({ storeRef: { name: store }, ...data(path) });
  const patchSpec = (name: string, spec: Record<string, unknown>) => async () => await h.patchThalassaSecret(name, { spec });
  const createTokenSecret = async (name: string, stringData: Record<string, string>) =>
    await h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name }, stringData } });

  beforeAll(async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    misbehaving = await MisbehavingThalassa.start();
    doomed = await createNamespace(h.kc, 'doomed');
    // The operator watches a second namespace, which a test deletes while it syncs.
    await h.startOperator({ namespaces: [h.namespace, doomed] });
    h.emulator.seed({
      organisations: [{ identity: 'org-other', slug: 'other-org' }],
      kmsKeys: [{ identity: 'kms-other', organisation: 'org-other', region }],
      principals: [{ name: 'stranger', organisation: 'org-other', permissions: [{ actions: ['*'] }] }],
      personalAccessTokens: [{ token: strangerToken, principal: 'stranger' }],
      oidcClients: [{ clientId: 'client-1', clientSecret: 'the-right-client-secret', principal: 'operator' }],
    });
    h.putSecret('/bad/plain', `plain-${canary}`);
    h.putSecret('/bad/kv', { user: 'app', password: `kv-${canary}`, blob: `not*base64!${canary}` });
    h.putSecret('/bad/pinned', `pinned-1-${canary}`);
    h.putSecret('/bad/pinned', `pinned-2-${canary}`);
    h.emulator.destroyVersion({ organisation, region, path: '/bad/pinned', version: 1 });
    h.putSecret('/bad/prefix-key/a+b', 'x');
    h.putSecret('/bad/prefix-key/ok', 'y');
    // 17 values of 64 KiB: each is within Thalassa's limit, together over Kubernetes' 1 MiB.
    for (let i = 0; i < 17; i++) h.putSecret(`/bad/large/m-${String(i).padStart(2, '0')}`, Buffer.alloc(64 * 1024, 97 + (i % 26)));
    h.putSecret('/bad/two/a', `a-${canary}`);
    h.putSecret('/bad/two/b', `b-${canary}`);
    h.putSecret('/bad/region/value', `regional-${canary}`);
    h.emulator.putSecret({ organisation, region: 'de-01', path: '/bad/no-kms', secretString: `no-kms-${canary}` });

    await createTokenSecret('stranger-token', { token: strangerToken });
    await createTokenSecret('no-key', { something: 'else' });
    await createTokenSecret('empty-token', { token: '  \n' });
    await createTokenSecret('revoked-pat', { token: revokedToken });
    await createTokenSecret('client-secret', { secret: wrongClientSecret });
    const pat = (name: string, key = 'token') => ({ auth: { personalAccessToken: { secretRef: { name, key } } } });
    await h.createStore('cred-missing', pat('absent'));
    await h.createStore('cred-no-key', pat('no-key'));
    await h.createStore('cred-empty', pat('empty-token'));
    await h.createStore('wrong-org', { organisation: 'org-other' });
    await h.createStore('foreign-token', pat('stranger-token'));
    await h.createStore('revoked', pat('revoked-pat'));
    await h.createStore('pat-as-bearer', { auth: { accessToken: { secretRef: { name: 'thalassa-token', key: 'token' } } } });
    await h.createStore('bad-client', { auth: { clientCredentials: { clientID: 'client-1', clientSecretRef: { name: 'client-secret', key: 'secret' } } } });
    await h.createStore('wi-missing-sa', { auth: { workloadIdentity: { serviceAccountID: 'sa-1', serviceAccountRef: { name: 'no-such-sa' } } } });
    await h.createStore('region-typo');
    await h.createStore('no-kms', { region: 'de-01' });
    await h.createStore('project-unknown', { project: 'prj-nope' });
    await h.createStore('project-scope', { project: 'prj-1' });
    await h.createStore('misbehaving', { apiURL: misbehaving.url });
    await h.createStore('ca-not-pem', { apiURL: 'https://127.0.0.1:9', caBundle: 'this is not a certificate' });
  });

  afterAll(async () => {
    await deleteNamespace(h.kc, doomed);
    await misbehaving.stop();
    await h.stop();
  });

  const cases: Case[] = [
    // The store and its credentials
    { name: 'store-missing', reason: reasons.StoreNotFound, message: 'does not exist', spec: on('no-such-store'), secret: { state: 'absent' } },
    { name: 'credential-secret-missing', reason: reasons.CredentialsNotFound, message: 'does not exist', spec: on('cred-missing'), secret: { state: 'absent' } },
    { name: 'credential-key-missing', reason: reasons.CredentialsNotFound, message: 'has no key "token"', spec: on('cred-no-key'), secret: { state: 'absent' } },
    { name: 'credential-empty', reason: reasons.CredentialsNotFound, message: 'is empty', spec: on('cred-empty'), secret: { state: 'absent' } },
    { name: 'service-account-missing', reason: reasons.CredentialsNotFound, message: 'cannot mint a token', spec: on('wi-missing-sa'), secret: { state: 'absent' } },
    { name: 'wrong-organisation', reason: reasons.PermissionDenied, message: 'not a member of organisation org-other', spec: on('wrong-org'), secret: { state: 'absent' } },
    { name: 'token-of-another-organisation', reason: reasons.PermissionDenied, message: 'not a member', spec: on('foreign-token'), secret: { state: 'absent' } },
    { name: 'revoked-token', reason: reasons.AuthenticationFailed, spec: on('revoked'), secret: { state: 'absent' } },
    { name: 'pat-sent-as-bearer', reason: reasons.AuthenticationFailed, spec: on('pat-as-bearer'), secret: { state: 'absent' } },
    { name: 'wrong-client-secret', reason: reasons.AuthenticationFailed, spec: on('bad-client'), secret: { state: 'absent' } },
    {
      // A typo in the region answers 404, like a deleted secret: it must not count as one, even
      // under deletionPolicy Delete.
      name: 'unknown-region',
      reason: reasons.InvalidStore,
      message: 'region not found',
      spec: { ...on('region-typo', '/bad/region/value'), refreshInterval: '1s', target: { deletionPolicy: 'Delete' } },
      breakIt: async () => {
        await h.objects.patchNamespacedCustomObject(
          { group, version: 'v1alpha1', namespace: h.namespace, plural: 'thalassasecretstores', name: 'region-typo', body: { spec: { region: 'xx-99' } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      },
      secret: { state: 'untouched' },
    },
    { name: 'region-without-kms', reason: reasons.ThalassaUnavailable, message: 'KMS is not available', spec: on('no-kms', '/bad/no-kms'), secret: { state: 'absent' } },
    { name: 'unknown-project', reason: reasons.InvalidStore, message: 'project not found', spec: on('project-unknown'), secret: { state: 'absent' } },
    // Another project scope cannot be told from a missing secret: Thalassa answers 404 for both.
    { name: 'project-scope-mismatch', reason: reasons.RemoteSecretNotFound, spec: on('project-scope'), secret: { state: 'absent' } },
    { name: 'ca-bundle-not-pem', reason: reasons.InvalidStore, message: 'caBundle', spec: on('ca-not-pem'), secret: { state: 'absent' } },

    // What Thalassa holds
    { name: 'path-missing', reason: reasons.RemoteSecretNotFound, spec: data('/bad/nothing-here'), secret: { state: 'absent' } },
    {
      name: 'pinned-version-missing',
      reason: reasons.VersionNotFound,
      message: 'version 9 of /bad/pinned does not exist',
      spec: data('/bad/pinned', { version: 2 }),
      breakIt: patchSpec('pinned-version-missing', data('/bad/pinned', { version: 9 })),
      secret: { state: 'untouched' },
    },
    {
      name: 'pinned-version-destroyed',
      reason: reasons.VersionDestroyed,
      spec: data('/bad/pinned', { version: 2 }),
      breakIt: patchSpec('pinned-version-destroyed', data('/bad/pinned', { version: 1 })),
      secret: { state: 'untouched' },
    },
    {
      name: 'one-of-two-gone-under-delete',
      reason: reasons.RemoteSecretNotFound,
      spec: { refreshInterval: '1s', data: [{ key: 'a', path: '/bad/two/a' }, { key: 'b', path: '/bad/two/b' }], target: { deletionPolicy: 'Delete' } },
      breakIt: () => {
        h.emulator.deleteSecret({ organisation, region, path: '/bad/two/b' });
        return Promise.resolve();
      },
      secret: { state: 'untouched' },
    },

    // The shape of the data
    {
      name: 'string-with-property',
      reason: reasons.InvalidSource,
      message: 'is a string, not key/value',
      spec: data('/bad/plain'),
      breakIt: patchSpec('string-with-property', data('/bad/plain', { property: 'user' })),
      secret: { state: 'untouched' },
    },
    { name: 'key-value-without-property', reason: reasons.InvalidSource, message: 'set property', spec: data('/bad/kv'), secret: { state: 'absent' } },
    {
      name: 'property-missing',
      reason: reasons.InvalidSource,
      message: 'has no key "nope"',
      spec: data('/bad/kv', { property: 'user' }),
      breakIt: patchSpec('property-missing', data('/bad/kv', { property: 'nope' })),
      secret: { state: 'untouched' },
    },
    { name: 'datafrom-path-on-string', reason: reasons.InvalidSource, message: 'needs a key/value secret', spec: { dataFrom: [{ path: '/bad/plain' }] }, secret: { state: 'absent' } },
    {
      name: 'prefix-member-not-a-key',
      reason: reasons.InvalidSource,
      message: '"a+b" is not a valid Secret key',
      spec: { dataFrom: [{ pathPrefix: '/bad/prefix-key/' }] },
      secret: { state: 'absent' },
    },
    {
      name: 'key-collision',
      reason: reasons.KeyCollision,
      message: 'both write the key "user"',
      spec: { data: [{ key: 'user', path: '/bad/plain' }] },
      breakIt: patchSpec('key-collision', { data: [{ key: 'user', path: '/bad/plain' }], dataFrom: [{ path: '/bad/kv' }] }),
      secret: { state: 'untouched' },
    },
    {
      name: 'invalid-base64-value',
      reason: reasons.DecodingFailed,
      message: 'not base64',
      spec: data('/bad/kv', { property: 'blob' }),
      breakIt: patchSpec('invalid-base64-value', data('/bad/kv', { property: 'blob', decodingStrategy: 'Base64' })),
      secret: { state: 'untouched' },
    },
    {
      name: 'template-missing-key',
      reason: reasons.TemplateFailed,
      message: 'map has no entry for key "nope"',
      spec: data('/bad/plain'),
      breakIt: patchSpec('template-missing-key', { target: { template: { data: { url: 'db://{{ .nope }}' } } } }),
      secret: { state: 'untouched' },
    },
    {
      name: 'template-unknown-function',
      reason: reasons.TemplateFailed,
      message: 'function "explode" not defined',
      spec: { ...data('/bad/plain'), target: { template: { data: { out: '{{ .value | explode }}' } } } },
      secret: { state: 'absent' },
    },
    {
      name: 'template-b64dec-of-text',
      reason: reasons.TemplateFailed,
      message: 'error calling b64dec: illegal base64 data',
      spec: { ...data('/bad/plain'), target: { template: { data: { out: '{{ .value | b64dec }}' } } } },
      secret: { state: 'absent' },
    },
    { name: 'over-one-mebibyte', reason: reasons.SecretTooLarge, message: 'at most 1048576', spec: { dataFrom: [{ pathPrefix: '/bad/large/' }] }, secret: { state: 'absent' } },

    // Answers only a broken or hostile server gives
    { name: 'server-bad-base64', reason: reasons.InvalidResponse, message: 'not valid base64', spec: on('misbehaving', '/bad-base64/value'), secret: { state: 'absent' } },
    { name: 'server-other-path', reason: reasons.InvalidResponse, message: '/somewhere/else', spec: on('misbehaving', '/other-path/value'), secret: { state: 'absent' } },
    {
      name: 'server-other-version',
      reason: reasons.InvalidResponse,
      message: 'version 2',
      spec: { storeRef: { name: 'misbehaving' }, ...data('/other-version/value', { version: 1 }) },
      secret: { state: 'absent' },
    },
    { name: 'server-not-json', reason: reasons.InvalidResponse, message: 'not JSON', spec: on('misbehaving', '/not-json/value'), secret: { state: 'absent' } },
    { name: 'server-redirect', reason: reasons.InvalidRequest, message: 'HTTP 302', spec: on('misbehaving', '/redirect/value'), secret: { state: 'absent' } },
    { name: 'server-echoes-token', reason: reasons.PermissionDenied, message: '[redacted]', spec: on('misbehaving', '/echo-token/value'), secret: { state: 'absent' } },

    // The target Secret
    {
      name: 'foreign-owner',
      reason: reasons.SecretExists,
      message: 'controlled by ConfigMap/owner',
      spec: data('/bad/plain'),
      prepare: async () => {
        const owner = await h.core.createNamespacedConfigMap({ namespace: h.namespace, body: { metadata: { name: 'owner' }, data: { a: 'b' } } });
        await h.core.createNamespacedSecret({
          namespace: h.namespace,
          body: {
            metadata: {
              name: 'foreign-owner',
              ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '', controller: true }],
            },
            stringData: { value: 'theirs' },
          },
        });
      },
      secret: { state: 'untouched' },
    },
    {
      name: 'target-is-the-credential',
      reason: reasons.SecretExists,
      spec: { ...data('/bad/plain'), target: { name: 'thalassa-token' } },
      secret: { name: 'thalassa-token', state: 'untouched' },
    },
    {
      name: 'written-by-another',
      reason: reasons.SecretOwnedByAnother,
      message: `written by ThalassaSecret`,
      spec: { ...data('/bad/plain'), target: { name: 'writer-a' } },
      prepare: async () => {
        await h.createThalassaSecret('writer-a', data('/bad/two/a'));
        await h.waitForReason('writer-a', 'Synced');
      },
      secret: { name: 'writer-a', state: 'untouched' },
    },
    {
      name: 'merge-into-missing',
      reason: reasons.SecretMissing,
      spec: { ...data('/bad/plain'), target: { name: 'merge-target', creationPolicy: 'Merge' } },
      secret: { name: 'merge-target', state: 'absent' },
    },
    {
      name: 'tls-secret-without-tls-keys',
      reason: reasons.WriteFailed,
      message: 'tls.crt',
      spec: { data: [{ key: 'cert', path: '/bad/plain' }], target: { type: 'kubernetes.io/tls' } },
      secret: { state: 'absent' },
    },
    {
      name: 'dockerconfigjson-not-json',
      reason: reasons.WriteFailed,
      message: '.dockerconfigjson',
      spec: { data: [{ key: '.dockerconfigjson', path: '/bad/plain' }], target: { type: 'kubernetes.io/dockerconfigjson' } },
      secret: { state: 'absent' },
    },
    {
      name: 'cluster-store-not-allowed',
      reason: reasons.StoreNotAllowed,
      spec: { ...data('/bad/plain'), storeRef: { kind: 'ClusterThalassaSecretStore', name: 'set-in-prepare' } },
      secret: { state: 'absent' },
    },
  ];

  it(`ends each of ${cases.length} cases in its reason, with nothing written and nothing lost`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    // A cluster store that only serves another namespace (its name must be unique in the cluster).
    const clusterStore = await h.createClusterStore('only-elsewhere', { conditions: [{ namespaces: ['elsewhere'] }] });
    const specOf = (c: Case): ThalassaSecretSpec =>
      c.name === 'cluster-store-not-allowed' ? { ...c.spec, storeRef: { kind: 'ClusterThalassaSecretStore', name: clusterStore } } : c.spec;
    const secretOf = (c: Case) => c.secret.name ?? c.name;

    await Promise.all(cases.map(async (c) => await c.prepare?.()));
    const before = await snapshotSecrets(h.kc, h.namespace);
    await Promise.all(cases.map(async (c) => await h.createThalassaSecret(c.name, specOf(c))));

    // The cases that break a working resource: synced first, then broken.
    const breaking = cases.filter((c) => c.breakIt);
    await waitForReasons(h, new Map(breaking.map((c) => [c.name, 'Synced'])));
    const synced = await snapshotSecrets(h.kc, h.namespace);
    for (const c of breaking) expect(synced.get(secretOf(c)), `${c.name} wrote its Secret`).toBeDefined();
    await Promise.all(breaking.map(async (c) => await c.breakIt?.()));

    const resources = await waitForReasons(h, new Map(cases.map((c) => [c.name, c.reason])));
    const after = await snapshotSecrets(h.kc, h.namespace);
    for (const c of cases) {
      const ready = resources.get(c.name)?.status?.conditions?.find((cond) => cond.type === 'Ready');
      expect(ready?.status, c.name).toBe('False');
      if (c.message) expect(ready?.message, c.name).toContain(c.message);
      const name = secretOf(c);
      if (c.secret.state === 'absent') {
        expect(after.get(name), `${c.name}: no Secret ${name}`).toBeUndefined();
      } else {
        const reference: SecretSnapshot | undefined = (c.breakIt ? synced : before).get(name);
        expect(reference, `${c.name}: Secret ${name} existed`).toBeDefined();
        expect(after.get(name), `${c.name}: Secret ${name} untouched`).toEqual(reference);
      }
    }
    // The token a hostile server echoed was scrubbed: the message says so and holds no credential.
    const echoed = resources.get('server-echoes-token')?.status?.conditions?.[0]?.message ?? '';
    expect(echoed).not.toContain(operatorToken);
    expect(misbehaving.authorizations).toContain(`Token ${operatorToken}`);
  });

  it('reports a restart target that does not exist by an event, and still syncs', async () => {
    h.putSecret('/bad/restart/value', `restart-1-${canary}`);
    await h.createThalassaSecret('restart-ghost', {
      refreshInterval: '1s',
      ...data('/bad/restart/value'),
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'ghost' }],
    });
    await h.waitForReason('restart-ghost', 'Synced');
    h.putSecret('/bad/restart/value', `restart-2-${canary}`);
    await h.waitForData('restart-ghost', { value: `restart-2-${canary}` });
    await waitFor(async () => (await h.events()).some((e) => e.startsWith('Warning RolloutRestartFailed could not restart Deployment/ghost does not exist')), {
      message: 'a RolloutRestartFailed event naming the missing Deployment',
    });
    const resource = await h.waitForReason('restart-ghost', 'Synced');
    expect(resource.status?.syncedVersions).toEqual([{ path: '/bad/restart/value', version: 2 }]);
  });

  it('lets a namespace be deleted while its resources sync, and keeps serving the others', async () => {
    await h.core.createNamespacedSecret({ namespace: doomed, body: { metadata: { name: 'thalassa-token' }, stringData: { token: operatorToken } } });
    await h.createStore('thalassa', {}, doomed);
    for (let i = 0; i < 30; i++) h.putSecret(`/bad/doomed/s-${i}`, `doomed-${i}-${canary}`);
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        await h.objects.createNamespacedCustomObject({
          group,
          version: 'v1alpha1',
          namespace: doomed,
          plural: 'thalassasecrets',
          body: {
            apiVersion: `${group}/v1alpha1`,
            kind: 'ThalassaSecret',
            metadata: { name: `s-${i}` },
            spec: { storeRef: { name: 'thalassa' }, data: [{ key: 'value', path: `/bad/doomed/s-${i}` }] },
          },
        });
      }),
    );
    // Some have synced, some have not: delete the namespace in the middle of it.
    await waitFor(async () => (await h.core.listNamespacedSecret({ namespace: doomed })).items.length > 3, { message: 'a few Secrets in the doomed namespace' });
    await h.core.deleteNamespace({ name: doomed });
    await waitFor(
      async () =>
        await h.core.readNamespace({ name: doomed }).then(
          () => false,
          (error: unknown) => isStatus(error, 404),
        ),
      { timeoutMs: 120_000, message: 'the namespace to be deleted (nothing of the operator holds it)' },
    );
    h.putSecret('/bad/after-doomed', `after-${canary}`);
    await h.createThalassaSecret('after-doomed', data('/bad/after-doomed'));
    await h.waitForReason('after-doomed', 'Synced');
    expect(await h.secretData('after-doomed')).toEqual({ value: `after-${canary}` });
  });

  it('keeps values, tokens and client secrets out of logs, Events, statuses and metrics', async () => {
    const outputs = await h.outputs();
    for (const planted of [canary, operatorToken, 'the-right-client-secret']) expect(outputs).not.toContain(planted);
    expect([...(await listResources(h)).keys()].length).toBeGreaterThan(30);
    expect(h.logs.length).toBeGreaterThan(50);
  });
});
