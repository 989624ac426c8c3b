import { Writable } from 'node:stream';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { ThalassaSecret, ThalassaSecretSpec } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { startEmulator, type Emulator, type EmulatorOptions, type EmulatorSeed } from '../../src/emulator/index.ts';
import { kubeconfigConnection } from '../../src/kube/connection.ts';
import { KubeClient } from '../../src/kube/kube-client.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { defaultOperatorSettings, Operator, type OperatorOptions } from '../../src/operator.ts';
import { createNamespace, createRetrying, deleteNamespace, deleteRetrying, isStatus, loadKubeConfig, retryTransient, uniqueName, waitFor } from './kube.ts';

export const group = 'secrets.thalassa.cloud';
export const organisation = 'org-test';
export const region = 'nl-01';
export const operatorToken = 'operator-token-CANARY-7f3a';
export const adminToken = 'admin-token';

export function harnessSeed(): EmulatorSeed {
  return {
    organisations: [{ identity: organisation, slug: 'test-org', projects: ['prj-1'] }],
    regions: [{ slug: region }, { slug: 'de-01', kms: false }],
    kmsKeys: [{ identity: 'kms-test', organisation, region }],
    principals: [
      { name: 'operator', organisation, permissions: [{ actions: ['read', 'list', 'getSecretValue'] }] },
      { name: 'admin', organisation, permissions: [{ actions: ['*'] }] },
    ],
    personalAccessTokens: [
      { token: operatorToken, principal: 'operator' },
      { token: adminToken, principal: 'admin' },
    ],
  };
}

export interface HarnessOptions {
  readonly emulator?: EmulatorOptions;
  readonly operator?: Partial<Omit<OperatorOptions, 'kube' | 'logger' | 'metrics'>>;
  /** Start without an operator (tests that run it themselves). */
  readonly withoutOperator?: boolean;
  readonly namespaceLabels?: Record<string, string>;
}

/**
Everything an integration test of the operator needs, on the shared real API server: a fresh
namespace, an emulator over HTTP, a store pointing at it with a token Secret, and the operator
running in-process, watching only that namespace, logging at debug level into `logs`.

Every API call of the harness goes through `retryTransient` (test/support/kube.ts): some tests
restart the API server, and a call right after that meets 429 "storage is (re)initializing" (a
CRD's watch cache starts again), 5xx or a refused connection for a moment.
*/
export class OperatorHarness {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly objects: CustomObjectsApi;
  readonly namespace: string;
  readonly emulator: Emulator;
  readonly logs: string[] = [];
  readonly #clusterStores: string[] = [];
  readonly metrics = new Metrics({ defaultMetrics: false });
  operator: Operator | undefined;
  readonly #options: HarnessOptions;

  private constructor(kc: KubeConfig, namespace: string, emulator: Emulator, options: HarnessOptions) {
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.objects = kc.makeApiClient(CustomObjectsApi);
    this.namespace = namespace;
    this.emulator = emulator;
    this.#options = options;
  }

  static async start(options: HarnessOptions = {}): Promise<OperatorHarness> {
    const kc = loadKubeConfig(inject('kubeconfigPath'));
    const namespace = await createNamespace(kc, 'it', options.namespaceLabels);
    const emulator = await startEmulator({ seed: harnessSeed(), ...options.emulator });
    const harness = new OperatorHarness(kc, namespace, emulator, options);
    await createRetrying(() =>
      harness.core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'thalassa-token' }, stringData: { token: operatorToken } },
      }),
    );
    await harness.createStore('thalassa');
    if (!options.withoutOperator) await harness.startOperator();
    return harness;
  }

  /**
  A ClusterThalassaSecretStore on the emulator with the harness's token, under a name unique in the
  cluster (returned); stop() deletes it.
  */
  async createClusterStore(prefix: string, spec: Record<string, unknown> = {}): Promise<string> {
    const name = uniqueName(prefix);
    this.#clusterStores.push(name);
    await createRetrying(() =>
      this.objects.createClusterCustomObject({
        group,
        version: 'v1alpha1',
        plural: 'clusterthalassasecretstores',
        body: {
          apiVersion: `${group}/v1alpha1`,
          kind: 'ClusterThalassaSecretStore',
          metadata: { name },
          spec: {
            apiURL: this.emulator.url,
            region,
            organisation,
            auth: { personalAccessToken: { secretRef: { name: 'thalassa-token', key: 'token', namespace: this.namespace } } },
            ...spec,
          },
        },
      }),
    );
    return name;
  }

  /** A Deployment for rolloutRestartTargets: its pods never run (the image does not exist), its template is what counts. */
  async createDeployment(name: string): Promise<void> {
    const apps = this.kc.makeApiClient(AppsV1Api);
    await createRetrying(() =>
      apps.createNamespacedDeployment({
        namespace: this.namespace,
        body: {
          metadata: { name },
          spec: {
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `example.invalid/${name}:1` }] } },
          },
        },
      }),
    );
  }

  /** A ThalassaSecretStore on the emulator with the token Secret `thalassa-token` of its namespace (the harness's by default). */
  async createStore(name: string, spec: Record<string, unknown> = {}, namespace = this.namespace): Promise<void> {
    await createRetrying(() =>
      this.objects.createNamespacedCustomObject({
        group,
        version: 'v1alpha1',
        namespace,
        plural: 'thalassasecretstores',
        body: {
          apiVersion: `${group}/v1alpha1`,
          kind: 'ThalassaSecretStore',
          metadata: { name },
          spec: {
            apiURL: this.emulator.url,
            region,
            organisation,
            auth: { personalAccessToken: { secretRef: { name: 'thalassa-token', key: 'token' } } },
            ...spec,
          },
        },
      }),
    );
  }

  async startOperator(overrides: Partial<Omit<OperatorOptions, 'kube' | 'logger' | 'metrics'>> = {}): Promise<Operator> {
    const capture = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.logs.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const operator = new Operator({
      ...defaultOperatorSettings,
      namespaces: [this.namespace],
      operatorIdentity: {},
      restartCoalesceMs: 500,
      ...this.#options.operator,
      ...overrides,
      kube: new KubeClient(await kubeconfigConnection(inject('kubeconfigPath'))),
      logger: createLogger({ level: 'debug', destination: capture }),
      metrics: this.metrics,
    });
    operator.start();
    await operator.synced;
    this.operator = operator;
    return operator;
  }

  async stopOperator(): Promise<void> {
    await this.operator?.stop(5_000);
    this.operator = undefined;
  }

  /** Puts a version in Thalassa (as an administrator would, not counted by the emulator). */
  putSecret(path: string, value: string | Buffer | Record<string, string>): number {
    return typeof value === 'string' || Buffer.isBuffer(value)
      ? this.emulator.putSecret({ organisation, region, path, secretString: value })
      : this.emulator.putSecret({ organisation, region, path, secretKeyValues: value });
  }

  async createThalassaSecret(name: string, spec: ThalassaSecretSpec, metadata: Record<string, unknown> = {}): Promise<void> {
    await createRetrying(() =>
      this.objects.createNamespacedCustomObject({
        group,
        version: 'v1alpha1',
        namespace: this.namespace,
        plural: 'thalassasecrets',
        body: { apiVersion: `${group}/v1alpha1`, kind: 'ThalassaSecret', metadata: { name, ...metadata }, spec: { storeRef: { name: 'thalassa' }, ...spec } },
      }),
    );
  }

  /** A merge patch: applying it twice is applying it once, so it is simply retried. */
  async patchThalassaSecret(name: string, patch: Record<string, unknown>): Promise<void> {
    await retryTransient(() =>
      this.objects.patchNamespacedCustomObject(
        { group, version: 'v1alpha1', namespace: this.namespace, plural: 'thalassasecrets', name, body: patch },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async deleteThalassaSecret(name: string): Promise<void> {
    await deleteRetrying(() => this.objects.deleteNamespacedCustomObject({ group, version: 'v1alpha1', namespace: this.namespace, plural: 'thalassasecrets', name }));
  }

  async getThalassaSecret(name: string): Promise<ThalassaSecret> {
    return (await retryTransient(() =>
      this.objects.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace: this.namespace, plural: 'thalassasecrets', name }),
    )) as ThalassaSecret;
  }

  /** Lists a custom resource of the harness's namespace. */
  async listCustomObjects<T>(plural: 'thalassasecrets' | 'thalassasecretstores', namespace = this.namespace): Promise<T[]> {
    const list = (await retryTransient(() => this.objects.listNamespacedCustomObject({ group, version: 'v1alpha1', namespace, plural }))) as { items: T[] };
    return list.items;
  }

  /** Waits until the Ready condition has `reason` for the current generation. */
  async waitForReason(name: string, reason: string, timeoutMs = 30_000): Promise<ThalassaSecret> {
    let last = '';
    return await waitFor(
      async () => {
        const resource = await this.getThalassaSecret(name);
        const ready = resource.status?.conditions?.find((c) => c.type === 'Ready');
        last = ready ? `${ready.status}/${ready.reason}: ${ready.message}` : 'no Ready condition';
        return ready?.reason === reason && ready.observedGeneration === resource.metadata.generation ? resource : undefined;
      },
      { timeoutMs, message: () => `${name} to report ${reason} (last: ${last})` },
    );
  }

  async readSecret(name: string): Promise<V1Secret | undefined> {
    return await retryTransient(() => this.core.readNamespacedSecret({ name, namespace: this.namespace })).catch((error: unknown) => {
      if (isStatus(error, 404)) return undefined;
      throw error;
    });
  }

  async deleteSecret(name: string): Promise<void> {
    await deleteRetrying(() => this.core.deleteNamespacedSecret({ name, namespace: this.namespace }));
  }

  async secretData(name: string): Promise<Record<string, string> | undefined> {
    const secret = await this.readSecret(name);
    if (!secret) return undefined;
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  }

  async waitForData(name: string, expected: Record<string, string>, timeoutMs = 30_000): Promise<void> {
    let last: unknown;
    await waitFor(
      async () => {
        last = await this.secretData(name);
        return JSON.stringify(sorted(last as Record<string, string> | undefined)) === JSON.stringify(sorted(expected));
      },
      { timeoutMs, message: () => `Secret ${name} to hold the expected keys (has ${Object.keys((last as object | undefined) ?? {}).join(',') || 'nothing'})` },
    );
  }

  revealCount(): number {
    return Object.values(this.emulator.counters().byOperation.reveal).reduce((a, b) => a + b, 0);
  }

  async events(): Promise<string[]> {
    const list = await retryTransient(() => this.core.listNamespacedEvent({ namespace: this.namespace }));
    return list.items.map((e) => `${e.type ?? ''} ${e.reason ?? ''} ${e.message ?? ''} (x${e.count ?? 1})`);
  }

  /** Every place a value could leak to: logs, Events, resource statuses, metrics. */
  async outputs(): Promise<string> {
    const resources = await this.listCustomObjects<ThalassaSecret>('thalassasecrets');
    const stores = await this.listCustomObjects<unknown>('thalassasecretstores');
    return [
      ...this.logs,
      ...(await this.events()),
      JSON.stringify(resources.map((r) => r.status)),
      JSON.stringify(stores),
      await this.metrics.registry.metrics(),
    ].join('\n');
  }

  async stop(): Promise<void> {
    await this.stopOperator();
    await this.emulator.stop();
    for (const name of this.#clusterStores) {
      await deleteRetrying(() => this.objects.deleteClusterCustomObject({ group, version: 'v1alpha1', plural: 'clusterthalassasecretstores', name })).catch(() => undefined);
    }
    await deleteNamespace(this.kc, this.namespace);
  }
}

function sorted(record: Record<string, string> | undefined): [string, string][] | undefined {
  return record ? Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)) : undefined;
}
