import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { kubeconfigConnection, type KubeConnection } from '../../src/kube/connection.ts';
import { isThrottled, retryAfterMsOf } from '../../src/kube/errors.ts';
import { KubeClient, type KubeRetryEvent } from '../../src/kube/kube-client.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { defaultOperatorSettings, Operator } from '../../src/operator.ts';
import { createNamespace, deleteNamespace, uniqueName, waitFor } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';

const flowcontrol = '/apis/flowcontrol.apiserver.k8s.io/v1';

/**
The API server throttles the operator's user for real, with API Priority and Fairness: a
FlowSchema sends that user's requests to a priority level with no share (nominalConcurrencyShares
0), that may not borrow, and that rejects (429) instead of queueing. Such a level still runs one
request at a time, so the test holds that one: a list of some 30 MiB that it does not read keeps
its handler writing, and its seat taken, until the test drops the connection. Meanwhile every other
request of the user is refused, whatever the timing. The user is the cluster admin impersonating a
user of its own (`as` in the kubeconfig): Priority and Fairness classifies a request after
impersonation, and system:masters itself is exempt from it.
*/
describe('the Kubernetes client under API Priority and Fairness throttling', () => {
  let h: OperatorHarness;
  let admin: KubeClient;
  let throttled: KubeConnection;
  let dir: string;
  let hogNamespace: string;
  let priorityLevelUid: string;
  const user = uniqueName('thalassa-throttled');

  /** Which priority level the API server put a request of the throttled user in (its X-Kubernetes-PF-PriorityLevel-UID). */
  async function priorityLevelOfUser(): Promise<string | undefined> {
    const certificate = await throttled.clientCertificate?.();
    return await new Promise((resolve, reject) => {
      const request = httpsRequest(
        new URL(`/api/v1/namespaces/${h.namespace}`, throttled.server),
        {
          ca: throttled.ca,
          cert: certificate?.cert ?? throttled.cert,
          key: certificate?.key ?? throttled.key,
          headers: throttled.headers as Record<string, string>,
        },
        (response) => {
          response.resume();
          const uid = response.headers['x-kubernetes-pf-prioritylevel-uid'];
          resolve(typeof uid === 'string' ? uid : undefined);
        },
      );
      request.on('error', reject);
      request.end();
    });
  }

  /** Whether one request of the throttled user, sent without retries, is answered 429. */
  async function isRefused(): Promise<boolean> {
    const client = new KubeClient(throttled, { retry: false });
    try {
      return await client.get(`/api/v1/namespaces/${h.namespace}`).then(
        () => false,
        (error: unknown) => isThrottled(error),
      );
    } finally {
      client.close();
    }
  }

  /** Takes the level's one seat with a list that is never read; the returned function gives it back. */
  async function holdTheSeat(): Promise<() => void> {
    const client = new KubeClient(throttled, { retry: false });
    const response = await waitFor(async () => await client.stream(`/api/v1/namespaces/${hogNamespace}/configmaps`), { timeoutMs: 60_000, message: 'the seat to be taken' });
    await waitFor(isRefused, { timeoutMs: 30_000, message: 'other requests of the user to be refused while the seat is held' });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      response.destroy();
      client.close();
    };
  }

  /** Every retry of a 429 waited at least the server's Retry-After. */
  function expectRetryAfterHonoured(retries: readonly KubeRetryEvent[]): void {
    for (const retry of retries) {
      const serverDelay = retryAfterMsOf(retry.error);
      expect(serverDelay).toBeGreaterThan(0);
      expect(retry.delayMs).toBeGreaterThanOrEqual(serverDelay ?? 0);
    }
  }

  beforeAll(async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    admin = new KubeClient(await kubeconfigConnection(inject('kubeconfigPath')));
    hogNamespace = await createNamespace(h.kc, 'throttling-hog');
    const filler = 'x'.repeat(960 * 1024);
    for (let i = 0; i < 32; i += 4) {
      await Promise.all([0, 1, 2, 3].map(async (j) => await admin.create(`/api/v1/namespaces/${hogNamespace}/configmaps`, { metadata: { name: `big-${i + j}` }, data: { filler } })));
    }
    await admin.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: user },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    });
    const level = await admin.create<{ metadata: { uid: string } }>(`${flowcontrol}/prioritylevelconfigurations`, {
      metadata: { name: user },
      spec: { type: 'Limited', limited: { nominalConcurrencyShares: 0, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: { type: 'Reject' } } },
    });
    priorityLevelUid = level.metadata.uid;
    await admin.create(`${flowcontrol}/flowschemas`, {
      metadata: { name: user },
      spec: {
        priorityLevelConfiguration: { name: user },
        matchingPrecedence: 50,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [{ kind: 'User', user: { name: user } }],
            resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          },
        ],
      },
    });
    // The admin's kubeconfig, impersonating the throttled user.
    dir = mkdtempSync(join(tmpdir(), 'kube-throttling-'));
    const config = parse(readFileSync(inject('kubeconfigPath'), 'utf8')) as { users: { user: Record<string, unknown> }[] };
    for (const entry of config.users) entry.user['as'] = user;
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, stringify(config), { mode: 0o600 });
    throttled = await kubeconfigConnection(file);
    // The API server applies a new FlowSchema within a moment.
    await waitFor(async () => (await priorityLevelOfUser()) === priorityLevelUid, { timeoutMs: 60_000, message: 'the test user to be classified into the tiny priority level' });
  });

  afterAll(async () => {
    for (const path of [`${flowcontrol}/flowschemas/${user}`, `${flowcontrol}/prioritylevelconfigurations/${user}`, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${user}`]) {
      await admin.delete(path).catch(() => undefined);
    }
    admin.close();
    await deleteNamespace(h.kc, hogNamespace);
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries the reads and creates that Priority and Fairness rejects, until every one succeeds', async ({ annotate }) => {
    const release = await holdTheSeat();
    const retries: KubeRetryEvent[] = [];
    // Patient, so that the requests outlast the throttling; the policy is the product's.
    const client = new KubeClient(throttled, { retry: { maxAttempts: 100, budgetMs: 120_000 }, onRetry: (event) => retries.push(event) });
    const reads = Array.from({ length: 30 }, async () => await client.get(`/api/v1/namespaces/${h.namespace}`));
    const creates = Array.from(
      { length: 20 },
      async (_, i) =>
        await client.create(`/api/v1/namespaces/${h.namespace}/configmaps`, { metadata: { name: `burst-${i}`, labels: { burst: 'yes' } }, data: { i: String(i) } }),
    );
    const all = Promise.allSettled([...reads, ...creates]);
    try {
      // Every one of the 50 is refused at least once before the throttling ends.
      await waitFor(() => retries.filter((r) => r.attempt === 1).length >= 50, { timeoutMs: 60_000, message: 'each request to be refused once' });
    } finally {
      release();
    }
    const results = await all;
    client.close();
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failures).toEqual([]);
    await annotate(`50 requests (20 creates) succeeded after ${retries.length} answers 429, each retried after at least the server's Retry-After`);
    expect(retries.every((r) => r.status === 429)).toBe(true);
    expect(retries.filter((r) => r.method === 'POST' && r.attempt === 1)).toHaveLength(20);
    expectRetryAfterHonoured(retries);
    // Creates retried after a 429 were not executed twice: exactly one ConfigMap each.
    const made = await admin.get<{ items: unknown[] }>(`/api/v1/namespaces/${h.namespace}/configmaps`, { query: { labelSelector: 'burst=yes' } });
    expect(made.items).toHaveLength(20);
  });

  it('lets an operator running as the throttled user sync everything', async ({ annotate }) => {
    const count = 20;
    for (let i = 0; i < count; i++) h.putSecret(`/throttled/s${i}`, `value-${i}`);
    for (let i = 0; i < count; i++) await h.createThalassaSecret(`throttled-${i}`, { data: [{ key: 'v', path: `/throttled/s${i}` }] });
    const retries: KubeRetryEvent[] = [];
    const operator = new Operator({
      ...defaultOperatorSettings,
      namespaces: [h.namespace],
      concurrency: 16,
      operatorIdentity: {},
      restartCoalesceMs: 500,
      kube: new KubeClient(throttled, { onRetry: (event) => retries.push(event) }),
      logger: createLogger({ level: 'silent' }),
      metrics: new Metrics({ defaultMetrics: false }),
    });
    const release = await holdTheSeat();
    operator.start();
    try {
      // Its lists are refused and retried; then the throttling ends and everything must converge.
      await waitFor(() => retries.length >= 10, { timeoutMs: 60_000, message: 'the operator\'s requests to be refused' });
      release();
      for (let i = 0; i < count; i++) await h.waitForReason(`throttled-${i}`, 'Synced', 90_000);
    } finally {
      release();
      await operator.stop(5_000);
    }
    for (let i = 0; i < count; i++) expect(await h.secretData(`throttled-${i}`)).toEqual({ v: `value-${i}` });
    await annotate(`${count} resources synced; the operator's client retried ${retries.length} answers 429 while throttled`);
    expect(retries.every((r) => r.status === 429)).toBe(true);
    expectRetryAfterHonoured(retries);
  });
});
