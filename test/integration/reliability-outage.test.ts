import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThalassaSecret } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { parseDuration } from '../../src/controllers/poll-groups.ts';
import { pollRetries } from '../../src/controllers/version-poller.ts';
import { defaultOperatorSettings } from '../../src/operator.ts';
import { watchEvents } from '../support/kube.ts';
import { group, OperatorHarness, operatorToken } from '../support/operator-harness.ts';
import { RecordingProxy } from '../support/recording-proxy.ts';
import { readyOf, SecretHistory, snapshotSecrets, waitForAll, waitForReasons } from '../support/reliability.ts';

/**
Thalassa goes down for several refresh intervals: first it answers 503 to everything, then it
refuses connections. Nothing the operator wrote may change meanwhile, every resource must say what
is wrong, the operator must not hammer Thalassa, and once it is back everything converges at the
first successful poll. The store reaches the emulator through a recording proxy, which also plays
the refusing server (it stops listening), so every request is seen with its time.
*/

const canary = 'CANARY-OUTAGE-73c1';
const groups = 6;
const perGroup = 10;
const refreshInterval = '2s';
const intervalMs = parseDuration(refreshInterval);
/** The client's retries after the first attempt (docs/thalassa-api.md, Retries). */
const clientRetries = 3;

const pathOf = (g: number, i: number) => `/outage-${g}/r-${i}`;
const nameOf = (g: number, i: number) => `o${g}-${i}`;

describe('a Thalassa outage', () => {
  let h: OperatorHarness;
  let proxy: RecordingProxy;

  beforeAll(async () => {
    // A failed reconcile waits 15 to 30 s before it tries again by itself: what comes back sooner
    // after the outage does so because the first good poll brought it back.
    h = await OperatorHarness.start({ operator: { queue: { ...defaultOperatorSettings.queue, baseDelayMs: 30_000 } } });
    proxy = await RecordingProxy.start({ url: h.emulator.url });
    await h.createStore('behind-proxy', { apiURL: proxy.url });
  });

  afterAll(async () => {
    h.emulator.setFaults({});
    await proxy.stop();
    await h.stop();
  });

  async function attempts(): Promise<number> {
    return (await h.metrics.thalassaRequests.get()).values.reduce((sum, v) => sum + v.value, 0);
  }

  it('changes no Secret, reports it, sends a bounded number of requests, and converges at the first poll after', async () => {
    const total = groups * perGroup;
    for (let g = 0; g < groups; g++) for (let i = 0; i < perGroup; i++) h.putSecret(pathOf(g, i), `v1-${g}-${i}-${canary}`);
    await Promise.all(
      Array.from({ length: total }, async (_, n) => {
        const g = Math.floor(n / perGroup);
        const i = n % perGroup;
        await h.createThalassaSecret(nameOf(g, i), { storeRef: { name: 'behind-proxy' }, refreshInterval, data: [{ key: 'value', path: pathOf(g, i) }] });
      }),
    );
    await waitForAll(h, total, (r) => readyOf(r).current && readyOf(r).reason === 'Synced');
    const before = await snapshotSecrets(h.kc, h.namespace);
    const history = new SecretHistory(h.kc, h.namespace);
    // When each resource's Ready reason changed, as the watch delivered it.
    const transitions: { name: string; reason: string; at: number }[] = [];
    const resourceWatch = watchEvents(h.kc, `/apis/${group}/v1alpha1/namespaces/${h.namespace}/thalassasecrets`, (_type, object) => {
      const resource = object as ThalassaSecret;
      const reason = readyOf(resource).reason;
      const last = transitions.findLast((t) => t.name === resource.metadata.name);
      if (reason && last?.reason !== reason) transitions.push({ name: resource.metadata.name, reason, at: Date.now() });
    });

    try {
      // 503 for everything.
      const attemptsBefore = await attempts();
      h.emulator.resetCounters();
      const outageStart = Date.now();
      h.emulator.setFaults({ outage: 'unavailable' });
      const expectAll = (reason: string) => new Map(Array.from({ length: total }, (_, n) => [nameOf(Math.floor(n / perGroup), n % perGroup), reason]));
      await waitForReasons(h, expectAll('ThalassaUnavailable'));
      // Meanwhile a new version of one secret per group is published, and a new resource comes,
      // which cannot sync (its one attempt costs 1 + retries requests).
      for (let g = 0; g < groups; g++) h.putSecret(pathOf(g, 0), `v2-${g}-0-${canary}`);
      h.putSecret('/outage-0/new', `new-${canary}`);
      await h.createThalassaSecret('o0-new', { storeRef: { name: 'behind-proxy' }, refreshInterval, data: [{ key: 'value', path: '/outage-0/new' }] });
      await h.waitForReason('o0-new', 'ThalassaUnavailable');
      const unavailableFor = Date.now() - outageStart;
      const answered503 = h.emulator.counters().total;

      // Then nothing listens at all.
      await proxy.refuse();
      await waitForReasons(h, new Map([...expectAll('ThalassaUnreachable'), ['o0-new', 'ThalassaUnreachable']]));
      // Several refresh intervals in all.
      while (Date.now() - outageStart < 5 * intervalMs) await new Promise((resolve) => setTimeout(resolve, 200));
      const outageMs = Date.now() - outageStart;
      const sentDuringOutage = (await attempts()) - attemptsBefore;
      expect(await snapshotSecrets(h.kc, h.namespace), 'no Secret changed during the outage').toEqual(before);
      expect(history.events.filter((e) => e.type !== 'ADDED'), 'no Secret event during the outage').toEqual([]);

      // The poller polls each group once per interval at most (less often as it backs off), each
      // poll with `pollRetries` retries, and a resource whose poll failed reports that failure
      // without asking again. So the outage costs at most groups x (1 + pollRetries) x
      // (intervals + 1) requests, against resources x (1 + retries) per interval if each resource
      // retried on its own.
      const bound = (ms: number) => groups * (1 + pollRetries) * (ms / intervalMs + 1) + (1 + clientRetries);
      const naive = total * (1 + clientRetries) * (outageMs / intervalMs);
      expect(answered503, '503s answered while unavailable').toBeLessThanOrEqual(bound(unavailableFor));
      expect(sentDuringOutage, 'requests during the whole outage').toBeLessThanOrEqual(bound(outageMs));
      expect(bound(outageMs) * 10).toBeLessThan(naive);

      // Back.
      h.emulator.setFaults({});
      h.emulator.resetCounters();
      const recoveredAt = Date.now();
      await proxy.resume();
      const converged = await waitForAll(
        h,
        total + 1,
        (r) => readyOf(r).current && readyOf(r).reason === 'Synced' && (r.status?.syncedVersions?.[0]?.version ?? 0) === (r.metadata.name.endsWith('-0') ? 2 : 1),
        { what: 'every resource to converge after the outage', timeoutMs: 120_000 },
      );
      expect(converged.size).toBe(total + 1);
      expect(await h.secretData('o0-new')).toEqual({ value: `new-${canary}` });
      // Only the new versions (and the new resource's value) were revealed; nothing else was read
      // again or rewritten.
      expect(h.emulator.counters().byOperation.reveal).toEqual({ '200': groups + 1 });
      const after = await snapshotSecrets(h.kc, h.namespace);
      for (let g = 0; g < groups; g++) {
        expect(after.get(nameOf(g, 0))?.data).toEqual({ value: `v2-${g}-0-${canary}` });
        for (let i = 1; i < perGroup; i++) expect(after.get(nameOf(g, i)), `${nameOf(g, i)} untouched`).toEqual(before.get(nameOf(g, i)));
      }
      // Within one backoff cycle: each group's resources were back before the poll after its
      // first successful one, whatever the backoff had grown to.
      for (let g = 0; g < groups; g++) {
        const polls = proxy.requests.filter((r) => r.at >= recoveredAt && r.url.includes(encodeURIComponent(`/outage-${g}/`)));
        const firstGood = polls.findIndex((r) => r.status === 200);
        expect(firstGood, `group ${g} polled after the outage`).toBeGreaterThanOrEqual(0);
        const next = polls[firstGood + 1]?.at ?? Number.POSITIVE_INFINITY;
        const members = [...Array.from({ length: perGroup }, (_, i) => nameOf(g, i)), ...(g === 0 ? ['o0-new'] : [])];
        const back = Math.max(...members.map((name) => transitions.findLast((t) => t.name === name && t.reason === 'Synced')?.at ?? Number.POSITIVE_INFINITY));
        expect(back, `group ${g} converged at its first successful poll`).toBeLessThan(next);
      }
    } finally {
      history.stop();
      resourceWatch.stop();
    }
  });

  it('lets one failed poll pass without a trace: no status change, no Warning', async () => {
    const warnings = async () =>
      (await h.core.listNamespacedEvent({ namespace: h.namespace })).items.filter((e) => e.type === 'Warning').reduce((sum, e) => sum + (e.count ?? 1), 0);
    const changes: string[] = [];
    const resourceWatch = watchEvents(h.kc, `/apis/${group}/v1alpha1/namespaces/${h.namespace}/thalassasecrets`, (type, object) => {
      const resource = object as ThalassaSecret;
      if (type === 'MODIFIED') changes.push(`${resource.metadata.name}: ${readyOf(resource).reason ?? ''}`);
    });
    try {
      const warningsBefore = await warnings();
      const isGroup0List = (r: { url: string }) => r.url.includes(`pathPrefix=${encodeURIComponent('/outage-0/')}`);
      const from = proxy.requests.length;
      proxy.failNext(1, isGroup0List);
      // The failed attempt, then two good polls of the group after it.
      await waitForAll(h, groups * perGroup + 1, () => proxy.requests.slice(from).filter((r) => isGroup0List(r) && r.status === 200).length >= 3, {
        what: 'a failed poll and two good ones after it',
      });
      expect(proxy.requests.slice(from).filter((r) => isGroup0List(r) && r.status === 503)).toHaveLength(1);
      expect(changes).toEqual([]);
      expect(await warnings()).toBe(warningsBefore);
    } finally {
      resourceWatch.stop();
    }
  });

  it('keeps values and the token out of every output', async () => {
    const outputs = await h.outputs();
    expect(outputs).not.toContain(canary);
    expect(outputs).not.toContain(operatorToken);
  });
});
