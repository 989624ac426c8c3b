import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ThalassaSecret } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { group } from '../../src/api/v1alpha1/common.ts';
import { shardMemberLabel, writtenByAnnotation } from '../../src/sharding/labels.ts';
import { createRetrying, deleteRetrying, retryTransient, uniqueName, waitFor } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';
import { OperatorProcess } from '../support/operator-process.ts';

/**
A ClusterThalassaSecret in sharded mode: the leader creates its children (one ThalassaSecret per
namespace), the sharder assigns them like any other, and each member writes the Secrets of the
children it owns.
*/

const namespaceCount = 20;

describe('sharding: a ClusterThalassaSecret fans out over two members', () => {
  let h: OperatorHarness;
  let store: string;
  const namespaces = Array.from({ length: namespaceCount }, () => uniqueName('shard-cts'));
  const parent = uniqueName('fan-out');
  const members: OperatorProcess[] = [];

  beforeAll(async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    store = await h.createClusterStore('shard-cts');
    for (const name of namespaces) await createRetrying(() => h.core.createNamespace({ body: { metadata: { name } } }));
    const ring = uniqueName('ring');
    for (const name of ['member-x', 'member-y']) {
      members.push(
        await OperatorProcess.start({
          kubeconfig: inject('kubeconfigPath'),
          args: [
            `--namespaces=${[h.namespace, ...namespaces].join(',')}`,
            `--leader-election-namespace=${h.namespace}`,
            `--leader-election-id=${ring}`,
            `--pod-name=${name}`,
            '--shards=true',
            '--lease-duration=8s',
            '--renew-deadline=6s',
            '--retry-period=1s',
            '--log-level=info',
          ],
        }),
      );
    }
    await Promise.all(members.map(async (m) => await m.waitReady(120_000)));
  });

  afterAll(async () => {
    await Promise.all(members.map(async (m) => await m.stop()));
    await deleteRetrying(() => h.objects.deleteClusterCustomObject({ group, version: 'v1alpha1', plural: 'clusterthalassasecrets', name: parent })).catch(() => undefined);
    for (const name of namespaces) await deleteRetrying(() => h.core.deleteNamespace({ name })).catch(() => undefined);
    await h.stop();
  });

  it('creates a child in every namespace, shares the children between the members, and each member writes the Secrets of its own', { timeout: 300_000 }, async () => {
    h.putSecret('/shared/db/password', 'fanned-out');
    await createRetrying(() =>
      h.objects.createClusterCustomObject({
        group,
        version: 'v1alpha1',
        plural: 'clusterthalassasecrets',
        body: {
          apiVersion: `${group}/v1alpha1`,
          kind: 'ClusterThalassaSecret',
          metadata: { name: parent },
          spec: { namespaces, storeRef: { kind: 'ClusterThalassaSecretStore', name: store }, data: [{ key: 'password', path: '/shared/db/password' }] },
        },
      }),
    );
    const owners = new Map<string, string>();
    await waitFor(
      async () => {
        owners.clear();
        for (const namespace of namespaces) {
          const child = (await retryTransient(() =>
            h.objects.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace, plural: 'thalassasecrets', name: parent }),
          ).catch(() => undefined)) as ThalassaSecret | undefined;
          const owner = child?.metadata.labels?.[shardMemberLabel];
          const secret = await h.core.readNamespacedSecret({ namespace, name: parent }).catch(() => undefined);
          const value = secret?.data?.['password'];
          if (owner === undefined || value === undefined || Buffer.from(value, 'base64').toString('utf8') !== 'fanned-out') return false;
          // The Secret was written by the member that owns its ThalassaSecret.
          if (secret?.metadata?.annotations?.[writtenByAnnotation] !== owner) return false;
          owners.set(namespace, owner);
        }
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 1000, message: () => `every namespace to have its Secret, written by its child's owner (${owners.size}/${namespaceCount})` },
    );
    // Twenty children on two members: both have some (all on one would be a chance of 2 in a million).
    expect(new Set(owners.values())).toEqual(new Set(['member-x', 'member-y']));
    await waitFor(
      async () => {
        const object = (await h.objects.getClusterCustomObject({ group, version: 'v1alpha1', plural: 'clusterthalassasecrets', name: parent })) as {
          status?: { provisionedNamespaces?: number };
        };
        return object.status?.provisionedNamespaces === namespaceCount;
      },
      { timeoutMs: 60_000, message: 'the ClusterThalassaSecret to count every namespace provisioned' },
    );
  });
});
