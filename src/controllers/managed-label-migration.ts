/**
Secrets written by operator 0.1 carry only `app.kubernetes.io/managed-by`, and the Secret watch now
selects on the operator's own label. Without this step each such Secret would look absent at the
first reconcile after an upgrade, and be revealed again only to find out that it exists. Labelling
them once at start-up (one list and one patch each, no reveal) keeps an upgrade as cheap as a
restart. It labels only Secrets that name a ThalassaSecret in the owner annotation.
*/
import { isConflict, isNotFound } from '../kube/errors.ts';
import { listAll, type KubeObject } from '../kube/list-watch.ts';
import { contentTypes, paths, type KubeClient } from '../kube/kube-client.ts';
import type { Logger } from '../observability/logger.ts';
import { fieldManager, managedByLabel, managedByValue, managedLabel, managedValue, ownerAnnotation } from './secret-metadata.ts';

const legacySelector = `${managedByLabel}=${managedByValue},!${managedLabel}`;

/** Labels the Secrets of operator 0.1 in `namespaces`; returns how many. */
export async function labelLegacySecrets(kube: KubeClient, namespaces: 'all' | readonly string[], logger: Logger): Promise<number> {
  const scopes = namespaces === 'all' ? ['/api/v1/secrets'] : namespaces.map((namespace) => paths.secrets(namespace));
  let labelled = 0;
  for (const scope of scopes) {
    const { items } = await listAll<KubeObject>(kube, scope, { labelSelector: legacySelector, metadataOnly: true });
    for (const secret of items) {
      const namespace = secret.metadata.namespace ?? '';
      if (secret.metadata.annotations?.[ownerAnnotation] === undefined) continue;
      const patched = await kube
        .patch(
          paths.secret(namespace, secret.metadata.name),
          { metadata: { resourceVersion: secret.metadata.resourceVersion, labels: { [managedLabel]: managedValue } } },
          contentTypes.mergePatch,
          { fieldManager },
        )
        .then(
          () => true,
          (error: unknown) => {
            // Changed or deleted meanwhile: the reconcile of its resource reads it and decides.
            if (isConflict(error) || isNotFound(error)) return false;
            throw error;
          },
        );
      if (patched) labelled++;
    }
  }
  if (labelled > 0) logger.info({ labelled }, `labelled Secrets of an earlier version with ${managedLabel}`);
  return labelled;
}
