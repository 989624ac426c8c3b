import { ApiextensionsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartAnnotation } from '../../src/controllers/rollout-restarter.ts';
import { inject } from 'vitest';
import { isStatus, loadKubeConfig, retryTransient, waitFor } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';

/**
The Rollout CRD as Argo Rollouts defines it where the operator touches it (group, version, kind,
scope, `spec.restartAt` as a date-time); the rest of the spec is kept as given. The Argo Rollouts
controller is not needed to check what the operator writes.
*/
const rolloutCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'rollouts.argoproj.io' },
  spec: {
    group: 'argoproj.io',
    names: { kind: 'Rollout', listKind: 'RolloutList', plural: 'rollouts', singular: 'rollout', shortNames: ['ro'] },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { restartAt: { type: 'string', format: 'date-time' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

interface Rollout {
  metadata: { annotations?: Record<string, string> };
  spec: { restartAt?: string; template?: { metadata?: { annotations?: Record<string, string> } } };
}

describe('rolloutRestartTargets of kind Rollout (Argo Rollouts)', () => {
  let h: OperatorHarness;

  beforeAll(async () => {
    const extensions = loadKubeConfig(inject('kubeconfigPath')).makeApiClient(ApiextensionsV1Api);
    await retryTransient(async () => await extensions.createCustomResourceDefinition({ body: rolloutCrd })).catch((error: unknown) => {
      if (!isStatus(error, 409)) throw error;
    });
    await waitFor(
      async () => {
        const crd = await extensions.readCustomResourceDefinition({ name: 'rollouts.argoproj.io' });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { message: 'the Rollout CRD to be established' },
    );
    h = await OperatorHarness.start({ operator: { restartCoalesceMs: 500 } });
  });

  afterAll(async () => {
    await h.stop();
  });

  const rolloutOf = async (name: string) =>
    (await h.objects.getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: h.namespace, plural: 'rollouts', name })) as Rollout;

  it('restarts a Rollout through spec.restartAt once per content change, never on the first sync, never replayed', async () => {
    // A freshly established CRD can answer 404 or 429 for a moment.
    await waitFor(
      async () =>
        await h.objects
          .createNamespacedCustomObject({
            group: 'argoproj.io',
            version: 'v1alpha1',
            namespace: h.namespace,
            plural: 'rollouts',
            body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'web' }, spec: { replicas: 1, template: { metadata: { labels: { app: 'web' } } } } },
          })
          .then(
            () => true,
            (error: unknown) => {
              if (isStatus(error, 404) || isStatus(error, 429)) return false;
              throw error;
            },
          ),
      { message: 'the Rollout to be created' },
    );
    h.putSecret('/rollout/password', 'v1');
    await h.createThalassaSecret('rollout', {
      refreshInterval: '1s',
      data: [{ key: 'password', path: '/rollout/password' }],
      rolloutRestartTargets: [{ kind: 'Rollout', name: 'web' }],
    });
    await h.waitForReason('rollout', 'Synced');
    const annotation = restartAnnotation(await h.getThalassaSecret('rollout'));
    expect((await rolloutOf('web')).spec.restartAt).toBeUndefined();

    h.putSecret('/rollout/password', 'v2');
    await h.waitForData('rollout', { password: 'v2' });
    const first = await waitFor(async () => {
      const rollout = await rolloutOf('web');
      return rollout.spec.restartAt !== undefined ? rollout : undefined;
    }, { message: 'the Rollout to get spec.restartAt' });
    expect(new Date(first.spec.restartAt ?? '').getTime()).not.toBeNaN();
    expect(first.metadata.annotations?.[annotation]).toBeDefined();
    // Not through the pod template: that would start a new revision through every step.
    expect(first.spec.template?.metadata?.annotations?.[annotation]).toBeUndefined();

    // An operator restart replays nothing: the content it restarted for is recorded on the Rollout.
    await h.stopOperator();
    await h.startOperator({ restartCoalesceMs: 500 });
    h.operator?.queue.add(`${h.namespace}/rollout`, 'high');
    await waitFor(() => h.operator?.queue.length === 0 && h.operator.queue.processingCount === 0, { message: 'the queue to drain' });
    expect((await rolloutOf('web')).spec.restartAt).toBe(first.spec.restartAt);

    // Setting restartAt to an older time would be a no-op for Argo Rollouts: make the next one differ.
    await h.objects.patchNamespacedCustomObject(
      { group: 'argoproj.io', version: 'v1alpha1', namespace: h.namespace, plural: 'rollouts', name: 'web', body: { spec: { restartAt: '2000-01-01T00:00:00Z' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    h.putSecret('/rollout/password', 'v3');
    await h.waitForData('rollout', { password: 'v3' });
    const second = await waitFor(async () => {
      const rollout = await rolloutOf('web');
      return rollout.metadata.annotations?.[annotation] !== first.metadata.annotations?.[annotation] ? rollout : undefined;
    }, { message: 'the Rollout to be restarted for v3' });
    expect(second.spec.restartAt).not.toBe('2000-01-01T00:00:00Z');
    expect((await h.events()).some((e) => e.includes('RolloutRestartTriggered') && e.includes('Rollout/web'))).toBe(true);
  });
});
