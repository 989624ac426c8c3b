import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { apiServerWrites, writesBetween, type WriteCounts } from '../support/apiserver-writes.ts';
import { waitFor } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';

/**
The Kubernetes writes a sync and a rotation cost, counted by the API server itself. Files run one at
a time, so in these windows only this file's operator writes ThalassaSecrets, Secrets and Events,
once the namespace controller has finished emptying the namespaces of the files before (its
deletes, and the Events controllers send about objects being deleted, count as writes too). Each
is documented in docs/benchmarks.md ("What each write is for").
*/
describe('Kubernetes writes per sync and per rotation', () => {
  let h: OperatorHarness | undefined;

  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  /** The operator's writes, by `VERB resource`, while `during` runs; the Events' writes merged (a repeat is a PATCH of the same Event). */
  async function writesWhile(during: () => Promise<void>): Promise<Record<string, number>> {
    if (!h) throw new Error('no harness');
    const core = h.kc.makeApiClient(CoreV1Api);
    await waitFor(async () => (await core.listNamespace()).items.every((namespace) => namespace.status?.phase !== 'Terminating'), {
      timeoutMs: 300_000,
      message: 'the namespaces of earlier test files to be gone',
    });
    const before: WriteCounts = await apiServerWrites(h.kc);
    await during();
    // The Event follows the status: give it a moment to land.
    await sleep(1500);
    const made = writesBetween(before, await apiServerWrites(h.kc));
    const counted: Record<string, number> = {};
    for (const [kind, count] of made) {
      if (!/^(POST|PUT|PATCH|APPLY|DELETE) (secrets|thalassasecrets|thalassasecrets\/status|events)$/.test(kind)) continue;
      const key = kind.endsWith(' events') ? 'events' : kind;
      counted[key] = (counted[key] ?? 0) + count;
    }
    return counted;
  }

  it('writes a new resource Secret, status and Event once each, and each rotation the same', async () => {
    h = await OperatorHarness.start();
    const harness = h;
    harness.putSecret('/writes/password', 'v1');
    const created = await writesWhile(async () => {
      await harness.createThalassaSecret('counted', { refreshInterval: '1s', data: [{ key: 'password', path: '/writes/password' }] });
      await harness.waitForReason('counted', 'Synced');
    });
    expect(created).toEqual({ 'POST thalassasecrets': 1, 'POST secrets': 1, 'PATCH thalassasecrets/status': 1, events: 1 });

    const rotations = 8;
    const rotated = await writesWhile(async () => {
      for (let version = 2; version <= rotations + 1; version++) {
        harness.putSecret('/writes/password', `v${version}`);
        await harness.waitForData('counted', { password: `v${version}` });
        await waitFor(async () => (await harness.getThalassaSecret('counted')).status?.syncedVersions?.[0]?.version === version, { message: `status of version ${version}` });
        // Past the reconcile that the Secret's own watch event brings, before the next rotation.
        await sleep(500);
      }
    });
    // A status write made from a view older than the operator's own last write is refused (409)
    // by its resourceVersion precondition and is a wasted request: there must be none.
    expect(rotated).toEqual({ 'APPLY secrets': rotations, 'PATCH thalassasecrets/status': rotations, events: rotations });
  });
});
