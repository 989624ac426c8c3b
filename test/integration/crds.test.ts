import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureControlPlaneBinaries } from '../support/cluster.ts';
import { createNamespace, deleteNamespace, loadKubeConfig, uniqueName } from '../support/kube.ts';

const group = 'secrets.thalassa.cloud';
const examplesDir = join(import.meta.dirname, '../../docs/examples');
const plurals: Record<string, string> = {
  ThalassaSecret: 'thalassasecrets',
  ThalassaSecretStore: 'thalassasecretstores',
  ClusterThalassaSecretStore: 'clusterthalassasecretstores',
  ClusterThalassaSecret: 'clusterthalassasecrets',
};
const clusterKinds = new Set(['ClusterThalassaSecretStore', 'ClusterThalassaSecret']);

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
  [key: string]: unknown;
}

function examples(): { file: string; manifest: Manifest }[] {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(examplesDir, file), 'utf8')).map((doc) => ({ file, manifest: doc.toJS() as Manifest })),
    );
}

describe('the custom resource definitions', () => {
  let kc: KubeConfig;
  let objects: CustomObjectsApi;
  let namespace: string;
  const clusterScoped: { plural: string; name: string }[] = [];

  async function create(manifest: Manifest, fieldValidation?: 'Strict'): Promise<Manifest> {
    const plural = plurals[manifest.kind];
    if (!plural) throw new Error(`not a custom resource: ${manifest.kind}`);
    const common = { group, version: 'v1alpha1', plural, body: manifest, ...(fieldValidation ? { fieldValidation } : {}) };
    if (clusterKinds.has(manifest.kind)) {
      clusterScoped.push({ plural, name: manifest.metadata.name });
      return (await objects.createClusterCustomObject(common)) as Manifest;
    }
    return (await objects.createNamespacedCustomObject({ ...common, namespace })) as Manifest;
  }

  beforeAll(async () => {
    kc = loadKubeConfig(inject('kubeconfigPath'));
    objects = kc.makeApiClient(CustomObjectsApi);
    namespace = await createNamespace(kc, 'crds');
  });

  afterAll(async () => {
    for (const { plural, name } of clusterScoped) {
      await objects
        .deleteClusterCustomObject({ group, version: 'v1alpha1', plural, name })
        .catch(() => undefined);
    }
    await deleteNamespace(kc, namespace);
  });

  it('accepts every documented example and stores it unchanged', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const all = examples();
    expect(all.length).toBeGreaterThanOrEqual(20);
    for (const { file, manifest } of all) {
      if (manifest.kind === 'Secret') {
        await core.createNamespacedSecret({ namespace, body: manifest });
        continue;
      }
      const input: Manifest =
        clusterKinds.has(manifest.kind)
          ? { ...manifest, metadata: { ...manifest.metadata, name: uniqueName(manifest.metadata.name) } }
          : manifest;
      const stored = await create(input, 'Strict');
      expect(stored.spec, `${file}: ${manifest.kind}/${manifest.metadata.name}`).toEqual(manifest.spec);
      expect(stored['status'], `${file}: the server set a status`).toBeUndefined();
    }
  });

  const secret = (spec: unknown): Manifest => ({
    apiVersion: `${group}/v1alpha1`,
    kind: 'ThalassaSecret',
    metadata: { name: uniqueName('bad') },
    spec,
  });
  const store = (spec: Record<string, unknown>, kind = 'ThalassaSecretStore'): Manifest => ({
    apiVersion: `${group}/v1alpha1`,
    kind,
    metadata: { name: uniqueName('bad') },
    spec: { region: 'nl-01', organisation: 'my-org', ...spec },
  });
  const data = (entry: Record<string, unknown>) => ({ data: [{ key: 'k', path: '/a/b', ...entry }] });
  const pat = (ref: Record<string, unknown> = {}) => ({ personalAccessToken: { secretRef: { name: 'pat', key: 'token', ...ref } } });

  const invalid: [string, Manifest, string[]][] = [
    ['a path without a leading slash', secret(data({ path: 'app/db' })), ['spec.data[0].path', 'should match']],
    ['a path with //', secret(data({ path: '/app//db' })), ['spec.data[0].path', 'should match']],
    ['a path with a trailing slash', secret(data({ path: '/app/db/' })), ['spec.data[0].path', 'should match']],
    ['a path with a forbidden character', secret(data({ path: '/app/d$b' })), ['spec.data[0].path', 'should match']],
    ['a path with a .. segment', secret(data({ path: '/app/../db' })), ['spec.data[0].path', 'should match']],
    ['a pathPrefix with a . segment', secret({ dataFrom: [{ pathPrefix: '/app/./' }] }), ['spec.dataFrom[0].pathPrefix', 'should match']],
    ['a path over 512 characters', secret(data({ path: `/${'a'.repeat(512)}` })), ['spec.data[0].path', 'Too long']],
    ['version 0', secret(data({ version: 0 })), ['spec.data[0].version', 'greater than or equal to 1']],
    ['a negative version', secret(data({ version: -2 })), ['spec.data[0].version', 'greater than or equal to 1']],
    ['a version that is a string', secret(data({ version: '3' })), ['spec.data[0].version', 'must be of type integer']],
    ['a fractional version', secret(data({ version: 1.5 })), ['spec.data[0].version', 'must be of type integer']],
    ['neither data nor dataFrom', secret({}), ['spec', 'at least one entry in data or dataFrom is required']],
    ['empty data and dataFrom', secret({ data: [], dataFrom: [] }), ['spec', 'at least one entry in data or dataFrom is required']],
    ['a missing spec', { ...secret({}), spec: undefined }, ['spec', 'Required value']],
    [
      'duplicate keys',
      secret({ data: [{ key: 'k', path: '/a' }, { key: 'k', path: '/b' }] }),
      ['spec.data[1]', 'Duplicate value'],
    ],
    ['a key that is not a Secret key', secret(data({ key: 'bad key' })), ['spec.data[0].key', 'should match']],
    ['a data entry without key', secret({ data: [{ path: '/a' }] }), ['spec.data[0].key', 'Required value']],
    ['a data entry without path', secret({ data: [{ key: 'k' }] }), ['spec.data[0].path', 'Required value']],
    ['dataFrom with path and pathPrefix', secret({ dataFrom: [{ path: '/a', pathPrefix: '/a/' }] }), ['spec.dataFrom[0]', 'exactly one of path and pathPrefix']],
    ['dataFrom with neither path nor pathPrefix', secret({ dataFrom: [{ decodingStrategy: 'None' }] }), ['spec.dataFrom[0]', 'exactly one of path and pathPrefix']],
    ['a pathPrefix without the trailing slash', secret({ dataFrom: [{ pathPrefix: '/app' }] }), ['spec.dataFrom[0].pathPrefix', 'should match']],
    ['a version with a pathPrefix', secret({ dataFrom: [{ pathPrefix: '/app/', version: 2 }] }), ['spec.dataFrom[0].version', 'version can only pin a path']],
    ['an unknown decodingStrategy', secret(data({ decodingStrategy: 'Hex' })), ['spec.data[0].decodingStrategy', 'Unsupported value']],
    [
      'deletionPolicy Delete with creationPolicy Orphan',
      secret({ ...data({}), target: { creationPolicy: 'Orphan', deletionPolicy: 'Delete' } }),
      ['spec.target.deletionPolicy', 'deletionPolicy Delete requires creationPolicy Owner'],
    ],
    [
      'deletionPolicy Delete with creationPolicy Merge',
      secret({ ...data({}), target: { creationPolicy: 'Merge', deletionPolicy: 'Delete' } }),
      ['spec.target.deletionPolicy', 'deletionPolicy Delete requires creationPolicy Owner'],
    ],
    ['an unknown creationPolicy', secret({ ...data({}), target: { creationPolicy: 'Adopt' } }), ['spec.target.creationPolicy', 'Unsupported value']],
    ['an unknown deletionPolicy', secret({ ...data({}), target: { deletionPolicy: 'Purge' } }), ['spec.target.deletionPolicy', 'Unsupported value']],
    ['an unknown refreshPolicy', secret({ ...data({}), refreshPolicy: 'Sometimes' }), ['spec.refreshPolicy', 'Unsupported value']],
    ['a refreshInterval in words', secret({ ...data({}), refreshInterval: '5 minutes' }), ['spec.refreshInterval', 'should match']],
    ['a negative refreshInterval', secret({ ...data({}), refreshInterval: '-1s' }), ['spec.refreshInterval', 'should match']],
    ['a target name that is not a Secret name', secret({ ...data({}), target: { name: 'Bad_Name' } }), ['spec.target.name', 'should match']],
    ['a target type with spaces', secret({ ...data({}), target: { type: 'my type' } }), ['spec.target.type', 'should match']],
    ['an unknown store kind', secret({ ...data({}), storeRef: { kind: 'SecretStore', name: 's' } }), ['spec.storeRef.kind', 'Unsupported value']],
    ['a storeRef without name', secret({ ...data({}), storeRef: { kind: 'ThalassaSecretStore' } }), ['spec.storeRef.name', 'Required value']],
    ['a restart target of kind Pod', secret({ ...data({}), rolloutRestartTargets: [{ kind: 'Pod', name: 'p' }] }), ['spec.rolloutRestartTargets[0].kind', 'Unsupported value']],
    [
      'a template key that is not a Secret key',
      secret({ ...data({}), target: { template: { data: { 'bad key': 'x' } } } }),
      ['spec.target.template.data', 'template.data keys must be valid Secret keys'],
    ],
    ['an unknown template mergePolicy', secret({ ...data({}), target: { template: { mergePolicy: 'Union' } } }), ['spec.target.template.mergePolicy', 'Unsupported value']],
    ['a store without auth', store({}), ['spec.auth', 'Required value']],
    ['a store with no auth method', store({ auth: {} }), ['spec.auth', 'exactly one of personalAccessToken, accessToken, clientCredentials and workloadIdentity']],
    [
      'a store with two auth methods',
      store({ auth: { ...pat(), accessToken: { secretRef: { name: 'a', key: 't' } } } }),
      ['spec.auth', 'exactly one of personalAccessToken'],
    ],
    [
      'a namespaced store reading a Secret of another namespace',
      store({ auth: pat({ namespace: 'ops' }) }),
      ['spec.auth', 'can only use Secrets in its own namespace'],
    ],
    [
      'a cluster store secretRef without namespace',
      store({ auth: pat() }, 'ClusterThalassaSecretStore'),
      ['spec.auth', 'must name the namespace of every secretRef'],
    ],
    [
      "a namespaced store using the operator's identity",
      store({ auth: { workloadIdentity: { serviceAccountID: 'sa-1' } } }),
      ['spec.auth.workloadIdentity', 'must name serviceAccountRef'],
    ],
    [
      'a namespaced store using a ServiceAccount of another namespace',
      store({ auth: { workloadIdentity: { serviceAccountRef: { name: 'sa', namespace: 'ops' } } } }),
      ['spec.auth.workloadIdentity.serviceAccountRef.namespace', 'can only use ServiceAccounts in its own namespace'],
    ],
    [
      'a cluster store ServiceAccount without namespace',
      store({ auth: { workloadIdentity: { serviceAccountRef: { name: 'sa' } } } }, 'ClusterThalassaSecretStore'),
      ['spec.auth.workloadIdentity.serviceAccountRef', 'must name the namespace of serviceAccountRef'],
    ],
    ['a region with capitals', store({ region: 'NL_01', auth: pat() }), ['spec.region', 'should match']],
    ['an empty organisation', store({ organisation: '', auth: pat() }), ['spec.organisation', 'at least 1 chars']],
    ['an apiURL that is not a URL', store({ apiURL: 'not a url', auth: pat() }), ['spec.apiURL', 'apiURL must be an absolute http(s) URL']],
    ['an ftp apiURL', store({ apiURL: 'ftp://api.example.com', auth: pat() }), ['spec.apiURL', 'apiURL must be an absolute http(s) URL']],
    [
      'a caBundle with insecureSkipTLSVerify',
      store({ caBundle: 'pem', insecureSkipTLSVerify: true, auth: pat() }),
      ['spec.insecureSkipTLSVerify', 'caBundle and insecureSkipTLSVerify contradict each other'],
    ],
    ['a zero rate limit', store({ rateLimit: { requestsPerSecond: 0 }, auth: pat() }), ['spec.rateLimit.requestsPerSecond', 'greater than or equal to 1']],
    [
      'an empty cluster store condition',
      store({ auth: pat({ namespace: 'ops' }), conditions: [{}] }, 'ClusterThalassaSecretStore'),
      ['spec.conditions[0]', 'a condition needs namespaceSelector or namespaces'],
    ],
    [
      'clientCredentials without clientID',
      store({ auth: { clientCredentials: { clientSecretRef: { name: 's', key: 'k' } } } }),
      ['spec.auth.clientCredentials.clientID', 'Required value'],
    ],
  ];

  it.for(invalid)('rejects %s at admission, naming the field and the rule', async ([, manifest, fragments]) => {
    const error = await create(manifest).then(
      () => undefined,
      (e: unknown) => e as { code: number; body: string },
    );
    expect(error, 'the API server accepted it').toBeDefined();
    expect(error?.code).toBe(422);
    const message = (JSON.parse(String(error?.body)) as { message: string }).message;
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it('rejects unknown fields when the client asks for strict validation (kubectl does)', async () => {
    const manifest = secret({ ...data({}), target: { nmae: 'typo' } });
    const error = (await create(manifest, 'Strict').then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: number; body: string } | undefined;
    expect(error?.code).toBe(400);
    expect((JSON.parse(String(error?.body)) as { message: string }).message).toContain('unknown field "spec.target.nmae"');
  });

  it('has no way to name a target Secret in another namespace', async () => {
    const error = (await create(secret({ ...data({}), target: { name: 'stolen', namespace: 'kube-system' } }), 'Strict').then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: number; body: string } | undefined;
    expect(error?.code).toBe(400);
    expect((JSON.parse(String(error?.body)) as { message: string }).message).toContain('unknown field "spec.target.namespace"');
  });

  it('documents every field for kubectl explain', async () => {
    const kubectl = join(ensureControlPlaneBinaries(), 'kubectl');
    const explain = (what: string) =>
      execFileSync(kubectl, ['explain', what], { env: { ...process.env, KUBECONFIG: inject('kubeconfigPath') }, encoding: 'utf8' });
    const data = explain('thalassasecret.spec.data');
    expect(data).toContain('One Secret key per entry');
    expect(data).toContain('The key in the Kubernetes Secret that receives the value.');
    expect(data).toContain('Pins this version.');
    expect(explain('clusterthalassasecretstore.spec.conditions')).toContain('Which namespaces may use this store');
    const columns = execFileSync(kubectl, ['get', 'thalassasecrets', '-n', namespace], {
      env: { ...process.env, KUBECONFIG: inject('kubeconfigPath') },
      encoding: 'utf8',
    });
    expect(columns.split('\n')[0]).toMatch(/NAME\s+READY\s+REASON\s+VERSIONS\s+SECRET\s+AGE/);
    await Promise.resolve();
  });
});
