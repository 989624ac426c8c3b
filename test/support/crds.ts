import { ApiextensionsV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { customResourceDefinitions } from '../../src/api/crds.ts';
import { retryTransient, waitFor } from './kube.ts';

/** Applies the generated CRDs (server-side apply, so a re-run updates them) and waits until they serve. */
export async function applyCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of customResourceDefinitions()) {
    const name = (crd['metadata'] as { name: string }).name;
    // Server-side apply: applying twice is applying once, so a transient failure is simply retried.
    await retryTransient(() =>
      api.patchCustomResourceDefinition(
        { name, body: crd, fieldManager: 'thalassa-tests', force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
    await waitFor(
      async () => {
        const current = await api.readCustomResourceDefinition({ name });
        return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { message: `CRD ${name} to be established` },
    );
  }
}
