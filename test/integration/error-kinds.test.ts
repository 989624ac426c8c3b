import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdmissionregistrationV1Api, FlowcontrolApiserverV1Api, RbacAuthorizationV1Api, type KubeConfig, type V1PolicyRule } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ThalassaSecret } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { forceSyncAnnotation } from '../../src/controllers/thalassa-secret-controller.ts';
import { kubeconfigConnection } from '../../src/kube/connection.ts';
import { isThrottled } from '../../src/kube/errors.ts';
import { KubeClient, paths } from '../../src/kube/kube-client.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { defaultOperatorSettings, Operator } from '../../src/operator.ts';
import { controlPlaneCommand } from '../support/cluster.ts';
import { createNamespace, createRetrying, deleteNamespace, deleteRetrying, retryTransient, uniqueName, waitFor } from '../support/kube.ts';
import { group, OperatorHarness, operatorToken, organisation, region } from '../support/operator-harness.ts';

/**
Errors keep their kind from the API server that gave them to the resource's status: a credential
the operator may not read says so, a target it may not read is not a failed write, a throttled
read writes nothing, and deletionPolicy Delete acts only on a deletion a second request confirms.
All of it decided by the real API server (RBAC, API Priority and Fairness) and a Thalassa API that
answers 404 wrongly, never by a fake client.
*/

const adminUrl = inject('controlPlaneAdminUrl');

/** On failure, the operator's last log lines (values never reach the logs). */
function dumpLogsOnFailure(harness: () => OperatorHarness | undefined): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      process.stderr.write(`--- operator log (last 60 lines)\n${(harness()?.logs ?? []).slice(-60).join('\n')}\n`);
    });
  });
}

/** Runs the harness's operator as `user` (a kubeconfig of the test CA), logging into h.logs. */
async function startOperatorAs(h: OperatorHarness, kubeconfigPath: string): Promise<Operator> {
  const capture = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      h.logs.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      done();
    },
  });
  const operator = new Operator({
    ...defaultOperatorSettings,
    namespaces: [h.namespace],
    operatorIdentity: {},
    restartCoalesceMs: 500,
    // Come back soon after a failure, so that a test sees several attempts.
    queue: { ...defaultOperatorSettings.queue, maxDelayMs: 2_000 },
    // Two sends per request: a throttled read gives up quickly and goes back to the queue.
    kube: new KubeClient(await kubeconfigConnection(kubeconfigPath), { retry: { maxAttempts: 2, baseMs: 50, maxMs: 200 } }),
    logger: createLogger({ level: 'debug', destination: capture }),
    metrics: h.metrics,
  });
  h.operator = operator;
  operator.start();
  await operator.synced;
  return operator;
}

async function userKubeconfig(user: string): Promise<string> {
  return (await controlPlaneCommand<{ kubeconfigPath: string }>(adminUrl, '/user-kubeconfig', { user })).kubeconfigPath;
}

/** Cluster-wide rules through a ClusterRole bound to `user`; returns a cleanup. */
async function grantCluster(kc: KubeConfig, user: string, rules: V1PolicyRule[]): Promise<() => Promise<void>> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const name = uniqueName('error-kinds');
  await createRetrying(() => rbac.createClusterRole({ body: { metadata: { name }, rules } }));
  await createRetrying(() =>
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
    }),
  );
  return async () => {
    await deleteRetrying(() => rbac.deleteClusterRoleBinding({ name })).catch(() => undefined);
    await deleteRetrying(() => rbac.deleteClusterRole({ name })).catch(() => undefined);
  };
}

/** Rules in `namespace` through a Role bound to `user` (removed with the namespace). */
async function grantNamespace(kc: KubeConfig, user: string, namespace: string, rules: V1PolicyRule[]): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const name = 'operator';
  await createRetrying(() => rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } }));
  await createRetrying(() =>
    rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
    }),
  );
}

/** What the chart grants cluster-wide (charts/thalassa-secrets-operator/templates/_rbac-rules.tpl, rbac.yaml). */
const clusterRules: V1PolicyRule[] = [
  { apiGroups: [group], resources: ['clusterthalassasecretstores', 'clusterthalassasecrets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [group], resources: ['clusterthalassasecretstores/status', 'clusterthalassasecrets/status'], verbs: ['patch', 'update'] },
  { apiGroups: [group], resources: ['clusterthalassasecrets/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
];

/** What the chart grants in a watched namespace, with the Secret rules left to the test. */
function namespaceRules(secretRules: V1PolicyRule[]): V1PolicyRule[] {
  return [
    { apiGroups: [group], resources: ['thalassasecrets', 'thalassasecretstores'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [group], resources: ['thalassasecrets'], verbs: ['create', 'patch', 'delete'] },
    { apiGroups: [group], resources: ['thalassasecrets/status', 'thalassasecretstores/status'], verbs: ['patch', 'update'] },
    { apiGroups: [group], resources: ['thalassasecrets/finalizers'], verbs: ['update'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ...secretRules,
  ];
}

function readyOf(resource: ThalassaSecret): { reason?: string | undefined; message?: string | undefined } | undefined {
  return resource.status?.conditions?.find((c) => c.type === 'Ready');
}

describe.skipIf(!adminUrl)('a Kubernetes API that refuses the operator', () => {
  let h: OperatorHarness;
  let credentials: string;
  let clusterStore: string;
  let revoke: () => Promise<void> = () => Promise.resolve();
  dumpLogsOnFailure(() => h);

  beforeAll(async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    h.putSecret('/kinds/value', 'the-value');
    // A cluster store whose credential lives in a namespace the operator has no rights in.
    credentials = await createNamespace(h.kc, 'credentials');
    await createRetrying(() => h.core.createNamespacedSecret({ namespace: credentials, body: { metadata: { name: 'token' }, stringData: { token: operatorToken } } }));
    clusterStore = await h.createClusterStore('unreadable', { auth: { personalAccessToken: { secretRef: { name: 'token', key: 'token', namespace: credentials } } } });
    // Someone else's Secret, for a Merge the operator may not read.
    await createRetrying(() => h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'not-readable' }, stringData: { theirs: 'x' } } }));

    const user = uniqueName('restricted-operator');
    revoke = await grantCluster(h.kc, user, clusterRules);
    // Everything the operator needs in its namespace except: `get` of any Secret but the namespaced
    // store's credential, and `create` of Secrets.
    await grantNamespace(
      h.kc,
      user,
      h.namespace,
      namespaceRules([
        { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch', 'patch', 'update', 'delete'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['thalassa-token'] },
      ]),
    );
    await startOperatorAs(h, await userKubeconfig(user));
  });

  afterAll(async () => {
    await h.stop();
    await revoke();
    await deleteNamespace(h.kc, credentials);
  });

  it('says that it may not read a credential Secret, on the resource and on the store, instead of calling it missing', async () => {
    await h.createThalassaSecret('forbidden-credential', {
      storeRef: { kind: 'ClusterThalassaSecretStore', name: clusterStore },
      data: [{ key: 'v', path: '/kinds/value' }],
    });
    const resource = await h.waitForReason('forbidden-credential', 'CredentialsForbidden');
    const message = readyOf(resource)?.message ?? '';
    expect(message).toContain(`Secret ${credentials}/token`);
    expect(message).toContain('forbidden');
    const store = await waitFor(
      async () => {
        const object = (await retryTransient(() =>
          h.objects.getClusterCustomObject({ group, version: 'v1alpha1', plural: 'clusterthalassasecretstores', name: clusterStore }),
        )) as ThalassaSecret;
        return readyOf(object)?.reason === 'CredentialsForbidden' ? object : undefined;
      },
      { message: 'the store to report CredentialsForbidden' },
    );
    expect(readyOf(store)?.message).toContain(`Secret ${credentials}/token`);
    expect(await h.readSecret('forbidden-credential')).toBeUndefined();
  });

  it('says that it cannot read a target Secret, not that a write failed', async () => {
    await h.createThalassaSecret('unreadable-target', {
      data: [{ key: 'v', path: '/kinds/value' }],
      target: { name: 'not-readable', creationPolicy: 'Merge' },
    });
    const resource = await h.waitForReason('unreadable-target', 'ReadFailed');
    expect(readyOf(resource)?.message).toContain('cannot read Secret not-readable');
    expect(await h.secretData('not-readable')).toEqual({ theirs: 'x' });
  });

  it('still reports a write the API server refuses as WriteFailed, with a Warning Event', async () => {
    await h.createThalassaSecret('uncreatable', { data: [{ key: 'v', path: '/kinds/value' }] });
    const resource = await h.waitForReason('uncreatable', 'WriteFailed');
    expect(readyOf(resource)?.message).toContain('forbidden');
    await waitFor(async () => (await h.events()).some((e) => e.startsWith('Warning WriteFailed')), { message: 'a Warning WriteFailed Event' });
    expect(await h.outputs()).not.toContain('the-value');
  });
});

/**
An admission webhook that holds each request it is sent until released (or for at most `holdMs`):
a request waiting on it keeps its API Priority and Fairness seat for that long.
*/
class HoldingWebhook {
  readonly url: string;
  readonly caBundle: string;
  readonly #server: HttpsServer;
  readonly #waiting = new Set<() => void>();
  #released = false;

  private constructor(server: HttpsServer, caBundle: string) {
    this.#server = server;
    this.caBundle = caBundle;
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hold`;
  }

  static async start(holdMs: number): Promise<HoldingWebhook> {
    const dir = mkdtempSync(join(tmpdir(), 'error-kinds-webhook-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: ['ignore', 'ignore', 'pipe'] });
      const cert = readFileSync(join(dir, 'cert.pem'));
      const key = readFileSync(join(dir, 'key.pem'));
      const handler: { instance?: HoldingWebhook } = {};
      const server = createHttpsServer({ cert, key }, (req, res) => void handler.instance?.answer(req, res, holdMs));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      handler.instance = new HoldingWebhook(server, cert.toString('base64'));
      return handler.instance;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async answer(req: IncomingMessage, res: ServerResponse, holdMs: number): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: { uid?: string } };
    if (!this.#released) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(done, holdMs);
        this.#waiting.add(done);
      });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request?.uid ?? '', allowed: true } }),
    );
  }

  /** Answers every request held, and every later one at once. */
  release(): void {
    this.#released = true;
    for (const done of [...this.#waiting]) done();
  }

  async stop(): Promise<void> {
    this.release();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe.skipIf(!adminUrl)('a Kubernetes API that throttles the operator', () => {
  let h: OperatorHarness;
  let revoke: () => Promise<void> = () => Promise.resolve();
  let flowcontrol: FlowcontrolApiserverV1Api;
  let admission: AdmissionregistrationV1Api;
  let webhook: HoldingWebhook | undefined;
  let holding: Promise<void> = Promise.resolve();
  let stopHolding = false;
  const jail = uniqueName('error-kinds-jail');
  dumpLogsOnFailure(() => h);

  /** Ends the throttling: no request holds the priority level's seat any more. */
  async function unjail(): Promise<void> {
    stopHolding = true;
    webhook?.release();
    await holding;
    await deleteRetrying(() => flowcontrol.deleteFlowSchema({ name: jail })).catch(() => undefined);
  }

  beforeAll(async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    h.putSecret('/kinds/throttled', 'throttled-value');
    const user = uniqueName('throttled-operator');
    revoke = await grantCluster(h.kc, user, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]);
    // API Priority and Fairness: the operator's GETs of Secrets in this namespace, and the creates of
    // ConfigMaps that hold the seat, share a priority level with no concurrency of its own that
    // rejects what it cannot seat. APF still lets one request in when none is executing there, so
    // a ConfigMap create waits on a webhook all along: while it does, every GET is answered 429.
    // The operator's lists, watches and writes go elsewhere.
    flowcontrol = h.kc.makeApiClient(FlowcontrolApiserverV1Api);
    admission = h.kc.makeApiClient(AdmissionregistrationV1Api);
    await createRetrying(() =>
      flowcontrol.createPriorityLevelConfiguration({
        body: {
          metadata: { name: jail },
          spec: { type: 'Limited', limited: { nominalConcurrencyShares: 0, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: { type: 'Reject' } } },
        },
      }),
    );
    await createRetrying(() =>
      flowcontrol.createFlowSchema({
        body: {
          metadata: { name: jail },
          spec: {
            priorityLevelConfiguration: { name: jail },
            matchingPrecedence: 500,
            distinguisherMethod: { type: 'ByUser' },
            rules: [
              {
                subjects: [{ kind: 'User', user: { name: user } }],
                resourceRules: [
                  { verbs: ['get'], apiGroups: [''], resources: ['secrets'], namespaces: [h.namespace] },
                  { verbs: ['create'], apiGroups: [''], resources: ['configmaps'], namespaces: [h.namespace] },
                ],
              },
            ],
          },
        },
      }),
    );
    webhook = await HoldingWebhook.start(20_000);
    const holdLabel = { 'error-kinds.test/hold': 'true' };
    await createRetrying(() =>
      admission.createValidatingWebhookConfiguration({
        body: {
          metadata: { name: jail },
          webhooks: [
            {
              name: 'hold.error-kinds.test',
              clientConfig: { url: webhook?.url ?? '', caBundle: webhook?.caBundle ?? '' },
              rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: 'Namespaced' }],
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': h.namespace } },
              objectSelector: { matchLabels: holdLabel },
              sideEffects: 'None',
              admissionReviewVersions: ['v1'],
              timeoutSeconds: 30,
              failurePolicy: 'Ignore',
            },
          ],
        },
      }),
    );
    const kubeconfigPath = await userKubeconfig(user);
    const asUser = new KubeClient(await kubeconfigConnection(kubeconfigPath), { retry: false });
    // One create at a time, each held by the webhook; the next goes as soon as one returns.
    holding = (async () => {
      while (!stopHolding) {
        await asUser
          .create(`/api/v1/namespaces/${h.namespace}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'hold-', labels: holdLabel } })
          .catch(async () => await sleep(20));
      }
    })();
    let last = '';
    await waitFor(
      async () =>
        await asUser.get(paths.secret(h.namespace, 'thalassa-token')).then(
          () => ((last = 'answered 200'), false),
          (error: unknown) => ((last = String(error)), isThrottled(error)),
        ),
      { message: () => `the API server to throttle the operator user (last: ${last})`, timeoutMs: 60_000 },
    );
    await startOperatorAs(h, kubeconfigPath);
  });

  afterAll(async () => {
    await h.stop();
    await unjail();
    await webhook?.stop();
    await deleteRetrying(() => admission.deleteValidatingWebhookConfiguration({ name: jail })).catch(() => undefined);
    await deleteRetrying(() => flowcontrol.deletePriorityLevelConfiguration({ name: jail })).catch(() => undefined);
    await revoke();
  });

  it('writes no status and no Event for attempts whose credential read is throttled, requeues after Retry-After, and syncs once it ends', async () => {
    const errorsBefore = await reconcileErrors(h);
    await h.createThalassaSecret('throttled', { data: [{ key: 'v', path: '/kinds/throttled' }] });
    const key = `${h.namespace}/throttled`;
    // Several attempts, each with its credential read (GET of thalassa-token) answered 429.
    await waitFor(async () => (await reconcileErrors(h)) - errorsBefore >= 3, { message: 'three failed reconciles' });
    const resource = await h.getThalassaSecret('throttled');
    expect(resource.status?.conditions ?? []).toEqual([]);
    expect((await h.events()).filter((e) => e.startsWith('Warning'))).toEqual([]);
    // Said once, at info, with its reason (not a broken credential) and the server's delay.
    const failures = h.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l['key'] === key && l['msg'] === 'reconcile failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 'info', reason: 'KubernetesThrottled' });
    expect(failures[0]?.['retryAfterMs']).toBeGreaterThanOrEqual(1000);

    await unjail();
    await h.waitForReason('throttled', 'Synced', 60_000);
    expect(await h.secretData('throttled')).toEqual({ v: 'throttled-value' });
  });
});

async function reconcileErrors(h: OperatorHarness): Promise<number> {
  const metric = await h.metrics.reconcileErrors.get();
  return metric.values.filter((v) => v.labels.controller === 'thalassasecret').reduce((sum, v) => sum + v.value, 0);
}

/**
A Thalassa API in front of the emulator that answers 404 (as Thalassa does for a missing secret)
to the requests it is told to, and passes everything else on.
*/
class GlitchingThalassa {
  readonly url: string;
  /** 404s given so far. */
  glitches = 0;
  readonly #server: Server;
  #rules: { method: string; pathname: string; remaining: number }[] = [];

  private constructor(server: Server) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(target: string): Promise<GlitchingThalassa> {
    const upstream = new URL(target);
    const handler: { instance?: GlitchingThalassa } = {};
    const server = createServer((req, res) => handler.instance?.handle(req, res, upstream));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    handler.instance = new GlitchingThalassa(server);
    return handler.instance;
  }

  /** The next `times` metadata reads (GET) or reveals (POST) of `path` answer 404. */
  fail(method: 'GET' | 'POST', path: string, times = Number.POSITIVE_INFINITY): void {
    const pathname = `/v1/secrets/${region}/secret${path}${method === 'POST' ? '/value' : ''}`;
    this.#rules.push({ method, pathname, remaining: times });
  }

  heal(): void {
    this.#rules = [];
  }

  handle(req: IncomingMessage, res: ServerResponse, upstream: URL): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rule = this.#rules.find((r) => r.remaining > 0 && r.method === req.method && r.pathname === url.pathname);
    if (rule) {
      rule.remaining--;
      this.glitches++;
      req.resume();
      const path = url.pathname.replace(/^\/v1\/secrets\/[^/]+\/secret/, '').replace(/\/value$/, '');
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `secret not found: ${path}` }));
      return;
    }
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe('deletionPolicy Delete and a Thalassa API that answers 404 wrongly', () => {
  let h: OperatorHarness;
  let thalassa: GlitchingThalassa;
  let forced = 0;
  const forceSync = async (name: string) => await h.patchThalassaSecret(name, { metadata: { annotations: { [forceSyncAnnotation]: String(++forced) } } });
  const deleting = { creationPolicy: 'Owner', deletionPolicy: 'Delete' } as const;
  dumpLogsOnFailure(() => h);

  beforeAll(async () => {
    h = await OperatorHarness.start();
    thalassa = await GlitchingThalassa.start(h.emulator.url);
    await h.createStore('glitchy', { apiURL: thalassa.url });
  });

  afterAll(async () => {
    await h.stop();
    await thalassa.stop();
  });

  it('never deletes the Secret on a single 404: a second request finds the secret', async () => {
    h.putSecret('/gone-check/first', 'first');
    h.putSecret('/gone-check/second', 'second');
    // Polled once an hour: only the reconciles ask Thalassa here.
    await h.createThalassaSecret('single-404', { storeRef: { name: 'glitchy' }, refreshInterval: '1h', data: [{ key: 'v', path: '/gone-check/first' }], target: deleting });
    await h.waitForReason('single-404', 'Synced');
    const uid = (await h.readSecret('single-404'))?.metadata?.uid;
    expect(uid).toBeDefined();
    // The next reveal of the newly followed secret answers 404, once.
    thalassa.fail('POST', '/gone-check/second', 1);
    await h.patchThalassaSecret('single-404', { spec: { data: [{ key: 'v', path: '/gone-check/second' }] } });
    await h.waitForData('single-404', { v: 'second' });
    await h.waitForReason('single-404', 'Synced');
    expect(thalassa.glitches).toBe(1);
    // The same Secret all along: never deleted and created again.
    expect((await h.readSecret('single-404'))?.metadata?.uid).toBe(uid);
    expect((await h.events()).filter((e) => e.includes(' Deleted '))).toEqual([]);
  });

  it('keeps the Secret when a secret\'s own endpoints answer 404 but a list shows it, and says so', async () => {
    h.putSecret('/gone-check/listed', 'listed');
    await h.createThalassaSecret('listed', { storeRef: { name: 'glitchy' }, refreshInterval: '1h', data: [{ key: 'v', path: '/gone-check/listed' }], target: deleting });
    await h.waitForReason('listed', 'Synced');
    const uid = (await h.readSecret('listed'))?.metadata?.uid;
    thalassa.fail('GET', '/gone-check/listed');
    thalassa.fail('POST', '/gone-check/listed');
    try {
      await forceSync('listed');
      const resource = await h.waitForReason('listed', 'DeletionNotConfirmed');
      expect(readyOf(resource)?.message).toContain('/gone-check/listed');
      expect(readyOf(resource)?.message).toContain('Secret listed is kept');
      expect((await h.readSecret('listed'))?.metadata?.uid).toBe(uid);
      expect(await h.secretData('listed')).toEqual({ v: 'listed' });
    } finally {
      thalassa.heal();
    }
    await forceSync('listed');
    await h.waitForReason('listed', 'Synced');
    expect((await h.readSecret('listed'))?.metadata?.uid).toBe(uid);
  });

  it('still deletes the Secret when the secret is really gone', async () => {
    h.putSecret('/gone-check/deleted', 'deleted');
    await h.createThalassaSecret('really-gone', { storeRef: { name: 'glitchy' }, refreshInterval: '1h', data: [{ key: 'v', path: '/gone-check/deleted' }], target: deleting });
    await h.waitForReason('really-gone', 'Synced');
    h.emulator.deleteSecret({ organisation, region, path: '/gone-check/deleted' });
    await forceSync('really-gone');
    await waitFor(async () => (await h.readSecret('really-gone')) === undefined, { message: 'the Secret to be deleted under deletionPolicy Delete' });
    const resource = await h.waitForReason('really-gone', 'RemoteSecretNotFound');
    expect(readyOf(resource)?.message).toContain('was deleted (deletionPolicy Delete)');
  });
});
