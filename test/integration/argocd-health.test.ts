import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { LuaFactory } from 'wasmoon';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThalassaSecretSpec } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { uniqueName, waitFor } from '../support/kube.ts';
import { group, OperatorHarness, organisation, region } from '../support/operator-harness.ts';

/*
The Argo CD health checks of docs/gitops.md, run on real resources read back from the API server
in every state they can be in. Argo CD runs them with gopher-lua (Lua 5.1) and only the base,
table and package libraries (and a safe part of os); here wasmoon (Lua 5.4) runs them with the
libraries Argo CD does not load removed, and with the object as plain tables, as Argo CD passes it.
*/

const repoRoot = join(import.meta.dirname, '../..');
const thalassaSecretScript = readFileSync(join(repoRoot, 'docs/gitops/argocd-health-thalassasecret.lua'), 'utf8');
const storeScript = readFileSync(join(repoRoot, 'docs/gitops/argocd-health-store.lua'), 'utf8');
const clusterSecretScript = readFileSync(join(repoRoot, 'docs/gitops/argocd-health-clusterthalassasecret.lua'), 'utf8');

interface Health {
  readonly status: string;
  readonly message: string;
}

const factory = new LuaFactory();

/** Runs a health script on `object` as Argo CD would, and returns its `hs` table. */
async function health(script: string, object: unknown): Promise<Health> {
  const lua = await factory.createEngine({ enableProxy: false });
  try {
    await lua.doString('string = nil; io = nil; os = nil; debug = nil; utf8 = nil; coroutine = nil; math = nil');
    // A JSON round trip: the object as Argo CD has it, plain data without class instances.
    lua.global.set('obj', JSON.parse(JSON.stringify(object)) as unknown);
    const result = (await lua.doString(script)) as unknown;
    const hs = result as Partial<Record<string, unknown>> | undefined;
    if (typeof hs?.['status'] !== 'string' || typeof hs['message'] !== 'string') {
      throw new Error(`the script returned ${JSON.stringify(result)}, not {status, message}`);
    }
    expect(['Healthy', 'Progressing', 'Degraded']).toContain(hs['status']);
    return { status: hs['status'], message: hs['message'] };
  } finally {
    lua.global.close();
  }
}

interface ClusterObject {
  readonly metadata: { readonly name: string; readonly generation?: number };
  readonly status?: { readonly observedGeneration?: number; readonly conditions?: readonly { type: string; reason: string; message: string }[] };
}

interface StoreObject {
  readonly metadata: { readonly name: string; readonly generation?: number };
  readonly status?: { readonly observedGeneration?: number; readonly conditions?: readonly { type: string; reason: string; message: string }[] };
}

describe('the Argo CD health checks of docs/gitops.md', () => {
  let h: OperatorHarness;
  let idle: OperatorHarness;

  const spec = (path: string): ThalassaSecretSpec => ({ data: [{ key: 'value', path }] });

  async function getStore(name: string): Promise<StoreObject> {
    return (await h.objects.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace: h.namespace, plural: 'thalassasecretstores', name })) as StoreObject;
  }

  async function waitForStoreReason(read: () => Promise<StoreObject>, reason: string): Promise<StoreObject> {
    let last = '';
    return await waitFor(
      async () => {
        const store = await read();
        const ready = store.status?.conditions?.find((c) => c.type === 'Ready');
        last = ready ? `${ready.reason}: ${ready.message}` : 'no Ready condition';
        return ready?.reason === reason && store.status?.observedGeneration === store.metadata.generation ? store : undefined;
      },
      { message: () => `the store to report ${reason} (last: ${last})` },
    );
  }

  beforeAll(async () => {
    h = await OperatorHarness.start();
    idle = await OperatorHarness.start({ withoutOperator: true });
    h.putSecret('/health/value', 'v1');
  });

  afterAll(async () => {
    await idle.stop();
    await h.stop();
  });

  it('says Progressing while a ThalassaSecret has no status yet', async () => {
    await idle.createThalassaSecret('fresh', spec('/health/value'));
    const resource = await idle.getThalassaSecret('fresh');
    expect(resource.status).toBeUndefined();
    expect(await health(thalassaSecretScript, resource)).toEqual({ status: 'Progressing', message: 'Waiting for the operator to sync this resource' });
  });

  it('says Progressing while a store has no status yet', async () => {
    const store = (await idle.objects.getNamespacedCustomObject({
      group,
      version: 'v1alpha1',
      namespace: idle.namespace,
      plural: 'thalassasecretstores',
      name: 'thalassa',
    })) as StoreObject;
    expect(store.status).toBeUndefined();
    expect(await health(storeScript, store)).toEqual({ status: 'Progressing', message: 'Waiting for the operator to check this store' });
  });

  it('says Healthy, with the condition message, for a synced ThalassaSecret', async () => {
    await h.createThalassaSecret('synced', spec('/health/value'));
    const resource = await h.waitForReason('synced', 'Synced');
    const ready = resource.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).toBe('True');
    expect(await health(thalassaSecretScript, resource)).toEqual({ status: 'Healthy', message: 'Secret synced holds version 1' });
  });

  it('says Degraded, with reason and message, for a ThalassaSecret whose store is missing', async () => {
    await h.createThalassaSecret('no-store', { ...spec('/health/value'), storeRef: { name: 'missing' } });
    const resource = await h.waitForReason('no-store', 'StoreNotFound');
    expect(await health(thalassaSecretScript, resource)).toEqual({
      status: 'Degraded',
      message: `StoreNotFound: ThalassaSecretStore ${h.namespace}/missing does not exist`,
    });
  });

  it('says Degraded, with reason and message, for a ThalassaSecret whose secret is gone from Thalassa', async () => {
    await h.createThalassaSecret('no-secret', spec('/health/never-created'));
    const resource = await h.waitForReason('no-secret', 'RemoteSecretNotFound');
    const result = await health(thalassaSecretScript, resource);
    expect(result.status).toBe('Degraded');
    expect(result.message).toMatch(/^RemoteSecretNotFound: .*\/health\/never-created/);
  });

  it('says Healthy for a usable namespaced store and Degraded for one without its credentials', async () => {
    const valid = await waitForStoreReason(async () => await getStore('thalassa'), 'Valid');
    const healthy = await health(storeScript, valid);
    expect(healthy.status).toBe('Healthy');
    expect(healthy.message).toBe(`${h.emulator.url}, region ${region}, organisation ${organisation}: configuration and credentials are usable`);

    await h.createStore('no-credentials', { auth: { personalAccessToken: { secretRef: { name: 'missing', key: 'token' } } } });
    const broken = await waitForStoreReason(async () => await getStore('no-credentials'), 'CredentialsNotFound');
    expect(await health(storeScript, broken)).toEqual({
      status: 'Degraded',
      message: `CredentialsNotFound: credential Secret ${h.namespace}/missing does not exist`,
    });
  });

  it('says Healthy for a usable cluster store', async () => {
    const name = await h.createClusterStore('health-store');
    const store = await waitForStoreReason(
      async () => (await h.objects.getClusterCustomObject({ group, version: 'v1alpha1', plural: 'clusterthalassasecretstores', name })) as StoreObject,
      'Valid',
    );
    expect((await health(storeScript, store)).status).toBe('Healthy');
  });

  it('says Progressing while the status is for an older generation, and Healthy once the operator caught up', async () => {
    await h.createThalassaSecret('edited', spec('/health/value'));
    await h.waitForReason('edited', 'Synced');
    await waitForStoreReason(async () => await getStore('thalassa'), 'Valid');
    await h.stopOperator();

    await h.patchThalassaSecret('edited', { spec: { refreshInterval: '1m' } });
    const edited = await h.getThalassaSecret('edited');
    expect(edited.metadata.generation).toBe(2);
    expect(edited.status?.observedGeneration).toBe(1);
    expect(await health(thalassaSecretScript, edited)).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to sync generation 2 (status is for generation 1)',
    });

    await h.objects.patchNamespacedCustomObject(
      { group, version: 'v1alpha1', namespace: h.namespace, plural: 'thalassasecretstores', name: 'thalassa', body: { spec: { project: 'prj-1' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const store = await getStore('thalassa');
    expect(store.metadata.generation).toBe(2);
    expect(await health(storeScript, store)).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to check generation 2 (status is for generation 1)',
    });

    await h.startOperator();
    expect((await health(thalassaSecretScript, await h.waitForReason('edited', 'Synced'))).status).toBe('Healthy');
    expect((await health(storeScript, await waitForStoreReason(async () => await getStore('thalassa'), 'Valid'))).status).toBe('Healthy');
  });

  it('says Progressing for a status without a Ready condition, and for a Ready condition whose status is Unknown', async () => {
    await h.stopOperator();
    try {
      await h.createThalassaSecret('no-ready', spec('/health/value'));
      await h.objects.patchNamespacedCustomObjectStatus(
        { group, version: 'v1alpha1', namespace: h.namespace, plural: 'thalassasecrets', name: 'no-ready', body: { status: { observedGeneration: 1 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const withoutReady = await h.getThalassaSecret('no-ready');
      expect(withoutReady.status?.observedGeneration).toBe(1);
      expect(await health(thalassaSecretScript, withoutReady)).toEqual({ status: 'Progressing', message: 'Waiting for the Ready condition' });

      await h.createThalassaSecret('unknown', spec('/health/value'));
      await h.objects.patchNamespacedCustomObjectStatus(
        {
          group,
          version: 'v1alpha1',
          namespace: h.namespace,
          plural: 'thalassasecrets',
          name: 'unknown',
          body: {
            status: {
              observedGeneration: 1,
              conditions: [
                { type: 'Ready', status: 'Unknown', reason: 'Checking', message: 'not decided yet', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 },
              ],
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const resource = await h.getThalassaSecret('unknown');
      expect(resource.status?.conditions?.[0]?.status).toBe('Unknown');
      expect(await health(thalassaSecretScript, resource)).toEqual({ status: 'Progressing', message: 'Checking: not decided yet' });
    } finally {
      await h.startOperator();
    }
  });

  it('says Progressing, Healthy and Degraded for a ClusterThalassaSecret as it fans out', async () => {
    const store = await h.createClusterStore('health-fan-out');
    const plural = 'clusterthalassasecrets';
    const names = { healthy: uniqueName('health-ok'), failing: uniqueName('health-bad') };
    const create = async (name: string, path: string): Promise<void> => {
      await h.objects.createClusterCustomObject({
        group,
        version: 'v1alpha1',
        plural,
        body: {
          apiVersion: `${group}/v1alpha1`,
          kind: 'ClusterThalassaSecret',
          metadata: { name },
          spec: { storeRef: { kind: 'ClusterThalassaSecretStore', name: store }, namespaces: [h.namespace], data: [{ key: 'value', path }] },
        },
      });
    };
    const get = async (name: string) => (await h.objects.getClusterCustomObject({ group, version: 'v1alpha1', plural, name })) as ClusterObject;
    const waitForClusterReason = async (name: string, reason: string) => {
      let last = '';
      return await waitFor(
        async () => {
          const object = await get(name);
          const ready = object.status?.conditions?.find((c) => c.type === 'Ready');
          last = ready ? `${ready.reason}: ${ready.message}` : 'no Ready condition';
          return ready?.reason === reason && object.status?.observedGeneration === object.metadata.generation ? object : undefined;
        },
        { message: () => `ClusterThalassaSecret ${name} to report ${reason} (last: ${last})` },
      );
    };
    try {
      await h.stopOperator();
      try {
        await create(names.healthy, '/health/value');
        expect(await health(clusterSecretScript, await get(names.healthy))).toEqual({ status: 'Progressing', message: 'Waiting for the operator to fan this resource out' });
        await h.objects.patchClusterCustomObjectStatus(
          {
            group,
            version: 'v1alpha1',
            plural,
            name: names.healthy,
            body: {
              status: {
                observedGeneration: 1,
                provisionedNamespaces: 2,
                failedNamespaces: 0,
                conditions: [
                  {
                    type: 'Ready',
                    status: 'Unknown',
                    reason: 'Provisioning',
                    message: 'Secret x is in place in 2 of 3 namespaces; the others are syncing',
                    lastTransitionTime: '2026-01-01T00:00:00Z',
                    observedGeneration: 1,
                  },
                ],
              },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        expect(await health(clusterSecretScript, await get(names.healthy))).toEqual({
          status: 'Progressing',
          message: 'Provisioning (2 provisioned, 0 failed): Secret x is in place in 2 of 3 namespaces; the others are syncing',
        });
      } finally {
        await h.startOperator();
      }
      const healthy = await waitForClusterReason(names.healthy, 'Provisioned');
      expect(await health(clusterSecretScript, healthy)).toEqual({ status: 'Healthy', message: `Secret ${names.healthy} is in place in the 1 matching namespace` });

      await create(names.failing, '/health/never-created');
      const failing = await waitForClusterReason(names.failing, 'NamespacesFailing');
      const result = await health(clusterSecretScript, failing);
      expect(result.status).toBe('Degraded');
      expect(result.message).toMatch(/^NamespacesFailing: 1 of 1 namespaces failing, 0 provisioned; first: .* \(RemoteSecretNotFound\)/);
    } finally {
      for (const name of Object.values(names)) await h.objects.deleteClusterCustomObject({ group, version: 'v1alpha1', plural, name }).catch(() => undefined);
    }
  });

  it('is the Lua that docs/gitops.md shows for argocd-cm, byte for byte', () => {
    const markdown = readFileSync(join(repoRoot, 'docs/gitops.md'), 'utf8');
    const blocks = [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
    const configMaps = blocks
      .flatMap((block) => parseAllDocuments(block).map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> }))
      .filter((doc) => doc.kind === 'ConfigMap' && doc.metadata?.name === 'argocd-cm');
    expect(configMaps).toHaveLength(1);
    const data = configMaps[0]?.data ?? {};
    expect(data['resource.customizations.health.secrets.thalassa.cloud_ThalassaSecret']).toBe(thalassaSecretScript);
    expect(data['resource.customizations.health.secrets.thalassa.cloud_ThalassaSecretStore']).toBe(storeScript);
    expect(data['resource.customizations.health.secrets.thalassa.cloud_ClusterThalassaSecretStore']).toBe(storeScript);
    expect(data['resource.customizations.health.secrets.thalassa.cloud_ClusterThalassaSecret']).toBe(clusterSecretScript);
  });
});
