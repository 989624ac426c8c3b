import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';

/**
HTTP/1.1 holds a connection for every open watch: three per watched namespace plus one for cluster
stores. With 100 namespaces that is 301 watches, far more than the request pool's sockets; if the
two shared a pool, lists and writes would queue behind watches until those time out (minutes).
*/
describe('the Kubernetes client with many watched namespaces', () => {
  const count = 100;
  let h: OperatorHarness;
  const others: string[] = [];

  beforeAll(async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    for (let i = 0; i < count - 1; i += 10) {
      others.push(...(await Promise.all(Array.from({ length: Math.min(10, count - 1 - i) }, async () => await createNamespace(h.kc, 'scale')))));
    }
  });

  afterAll(async () => {
    await h.stop();
    for (const namespace of others) await deleteNamespace(h.kc, namespace);
  });

  it(`syncs a resource in the last of ${count} watched namespaces`, async () => {
    // The harness's namespace (with the store and its token) comes last: its informers start after 297 others.
    const namespaces = [...others, h.namespace];
    expect(namespaces).toHaveLength(count);
    await h.startOperator({ namespaces });
    h.putSecret('/scale/last', 'in the last namespace');
    await h.createThalassaSecret('last', { data: [{ key: 'v', path: '/scale/last' }] });
    await h.waitForReason('last', 'Synced', 60_000);
    expect(await h.secretData('last')).toEqual({ v: 'in the last namespace' });
  });
});
