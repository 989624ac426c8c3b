import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  VersionApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNamespace, deleteNamespace, isStatus, loadKubeConfig, waitFor, watchEvents } from '../support/kube.ts';

const group = 'smoke.thalassa.test';
const crd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } },
          },
        },
      },
    ],
  },
};

describe('the test control plane', () => {
  let kc: KubeConfig;
  let namespace: string;

  beforeAll(async () => {
    kc = loadKubeConfig(inject('kubeconfigPath'));
    namespace = await createNamespace(kc, 'smoke');
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: crd }).catch((error: unknown) => {
      if (!isStatus(error, 409)) throw error;
    });
    await waitFor(
      async () => {
        const current = await ext.readCustomResourceDefinition({ name: `widgets.${group}` });
        return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { message: 'the CRD to be established' },
    );
  });

  afterAll(async () => {
    await deleteNamespace(kc, namespace);
  });

  it('reports the pinned Kubernetes release on /version', async ({ skip }) => {
    if (inject('clusterMode') !== 'local') skip('the version is pinned only for the local control plane');
    const versions = readFileSync(join(import.meta.dirname, '../../tools/control-plane/versions.env'), 'utf8');
    const pinned = /KUBERNETES_VERSION=(\S+)/.exec(versions)?.[1];
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(pinned);
    expect(`v${version.major}.${version.minor}`).toBe(pinned?.split('.').slice(0, 2).join('.'));
  });

  it('creates, watches, updates and deletes a custom resource', async () => {
    const objects = kc.makeApiClient(CustomObjectsApi);
    const seen: string[] = [];
    const watch = watchEvents(kc, `/apis/${group}/v1/namespaces/${namespace}/widgets`, (type, object) => {
      const obj = object as { metadata?: { name?: string }; spec?: { size?: number } };
      seen.push(`${type}:${obj.metadata?.name ?? ''}:${obj.spec?.size ?? ''}`);
    });
    try {
      const target = { group, version: 'v1', namespace, plural: 'widgets' };
      // The watch is live once it reports an object created after it was opened.
      await objects.createNamespacedCustomObject({
        ...target,
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'sentinel' }, spec: { size: 1 } },
      });
      await waitFor(() => seen.includes('ADDED:sentinel:1'), { message: 'the watch to see the sentinel' });
      seen.length = 0;
      await objects.createNamespacedCustomObject({
        ...target,
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } },
      });
      await objects.patchNamespacedCustomObject(
        { ...target, name: 'w1', body: { spec: { size: 2 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await expect(
        objects.createNamespacedCustomObject({
          ...target,
          body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 0 } },
        }),
      ).rejects.toMatchObject({ code: 422 });
      await objects.deleteNamespacedCustomObject({ ...target, name: 'w1' });
      await waitFor(() => seen.length >= 3, { message: `three watch events, seen ${JSON.stringify(seen)}` });
      expect(seen, JSON.stringify(seen)).toEqual(['ADDED:w1:1', 'MODIFIED:w1:2', 'DELETED:w1:2']);
    } finally {
      watch.stop();
    }
  });

  it('garbage-collects an object whose owner was deleted', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const objects = kc.makeApiClient(CustomObjectsApi);
    const target = { group, version: 'v1', namespace, plural: 'widgets' };
    const owner = (await objects.createNamespacedCustomObject({
      ...target,
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'owner' }, spec: { size: 1 } },
    })) as { metadata: { uid: string } };
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [{ apiVersion: `${group}/v1`, kind: 'Widget', name: 'owner', uid: owner.metadata.uid, controller: true }],
        },
        data: { a: 'b' },
      },
    });
    await objects.deleteNamespacedCustomObject({ ...target, name: 'owner' });
    await waitFor(
      async () => {
        try {
          await core.readNamespacedConfigMap({ name: 'owned', namespace });
          return false;
        } catch (error) {
          return isStatus(error, 404);
        }
      },
      // The garbage collector discovers a new CRD's resources on its 30 s discovery resync.
      { message: 'the owned ConfigMap to be garbage-collected', timeoutMs: 110_000 },
    );
  });

  it('finishes deleting a namespace', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const doomed = await createNamespace(kc, 'doomed');
    await core.createNamespacedConfigMap({ namespace: doomed, body: { metadata: { name: 'c' } } });
    await core.deleteNamespace({ name: doomed });
    await waitFor(
      async () => {
        try {
          await core.readNamespace({ name: doomed });
          return false;
        } catch (error) {
          return isStatus(error, 404);
        }
      },
      { message: 'the namespace to be deleted' },
    );
  });
});
