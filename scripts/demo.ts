/**
`npm run demo`: the operator syncing and rotating a secret, end to end, with no cloud account. It
starts a local Kubernetes control plane and the Thalassa API emulator, runs the operator, creates a
store and a ThalassaSecret, shows the synced Secret, publishes a new version, shows the rotation
reach the Secret and restart a Deployment, then removes everything it made.

  npm run demo                          # a local control plane (built from Go modules on first use)
  npm run demo -- --cluster existing    # the cluster of KUBECONFIG; only what the demo creates is removed
*/
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ApiextensionsV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { customResourceDefinitions } from '../src/api/crds.ts';
import { startEmulator, type Emulator } from '../src/emulator/index.ts';
import { restartAnnotation } from '../src/controllers/rollout-restarter.ts';
import type { ThalassaSecret } from '../src/api/v1alpha1/thalassa-secret.ts';
import { startCluster, type ClusterMode, type TestCluster } from '../test/support/cluster.ts';
import { applyCrds } from '../test/support/crds.ts';
import { loadKubeConfig } from '../test/support/kube.ts';
import { OperatorProcess } from '../test/support/operator-process.ts';

const group = 'secrets.thalassa.cloud';
const organisation = 'org-demo';
const region = 'nl-01';
const path = '/demo/app/db-password';
const steps = 8;
let step = 0;

const { values: args } = parseArgs({ options: { cluster: { type: 'string' } } });
const mode = (args.cluster ?? process.env['THALASSA_TEST_CLUSTER'] ?? 'local') as ClusterMode;

function say(message: string): void {
  step++;
  process.stdout.write(`\n[${step}/${steps}] ${message}\n`);
}

function detail(message: string): void {
  process.stdout.write(`      ${message}\n`);
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

class Demo {
  cluster: TestCluster | undefined;
  emulator: Emulator | undefined;
  operator: OperatorProcess | undefined;
  kc: KubeConfig | undefined;
  namespace = `thalassa-demo-${randomBytes(3).toString('hex')}`;
  createdCrds = false;

  async run(): Promise<void> {
    say(mode === 'local' ? 'Starting a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager)' : `Using the cluster of KUBECONFIG (${mode})`);
    this.cluster = await startCluster(mode);
    const kc = loadKubeConfig(this.cluster.kubeconfigPath);
    this.kc = kc;
    const core = kc.makeApiClient(CoreV1Api);
    const objects = kc.makeApiClient(CustomObjectsApi);
    const apps = kc.makeApiClient(AppsV1Api);
    detail(`API server ready; kubeconfig ${this.cluster.kubeconfigPath}`);

    say('Installing the CustomResourceDefinitions');
    const extensions = kc.makeApiClient(ApiextensionsV1Api);
    const existing = new Set((await extensions.listCustomResourceDefinition()).items.map((c) => c.metadata?.name));
    this.createdCrds = customResourceDefinitions().some((crd) => !existing.has((crd['metadata'] as { name: string }).name));
    await applyCrds(kc);
    detail('thalassasecrets, thalassasecretstores, clusterthalassasecretstores, clusterthalassasecrets');

    say('Starting the Thalassa Secrets Manager API emulator with one secret');
    this.emulator = await startEmulator({
      seed: {
        organisations: [{ identity: organisation, slug: 'demo' }],
        regions: [{ slug: region }],
        kmsKeys: [{ identity: 'kms-demo', organisation, region }],
        principals: [{ name: 'operator', organisation, permissions: [{ actions: ['read', 'list', 'getSecretValue'] }] }],
        personalAccessTokens: [{ token: 'demo-operator-token', principal: 'operator' }],
      },
    });
    this.emulator.putSecret({ organisation, region, path, secretString: 'correct-horse-1' });
    detail(`${this.emulator.url}: ${path} version 1`);

    say(`Creating namespace ${this.namespace} with a token Secret, a ThalassaSecretStore and a Deployment`);
    await core.createNamespace({ body: { metadata: { name: this.namespace, labels: { 'app.kubernetes.io/part-of': 'thalassa-demo' } } } });
    await core.createNamespacedSecret({ namespace: this.namespace, body: { metadata: { name: 'thalassa-token' }, stringData: { token: 'demo-operator-token' } } });
    await objects.createNamespacedCustomObject({
      group,
      version: 'v1alpha1',
      namespace: this.namespace,
      plural: 'thalassasecretstores',
      body: {
        apiVersion: `${group}/v1alpha1`,
        kind: 'ThalassaSecretStore',
        metadata: { name: 'thalassa' },
        spec: { apiURL: this.emulator.url, region, organisation, auth: { personalAccessToken: { secretRef: { name: 'thalassa-token', key: 'token' } } } },
      },
    });
    await apps.createNamespacedDeployment({
      namespace: this.namespace,
      body: {
        metadata: { name: 'demo-app' },
        spec: {
          selector: { matchLabels: { app: 'demo-app' } },
          template: {
            metadata: { labels: { app: 'demo-app' } },
            spec: { containers: [{ name: 'app', image: 'example.invalid/demo-app:1', envFrom: [{ secretRef: { name: 'db' } }] }] },
          },
        },
      },
    });

    say('Starting the operator (node src/main.ts), watching that namespace');
    this.operator = await OperatorProcess.start({
      kubeconfig: this.cluster.kubeconfigPath,
      args: [`--namespaces=${this.namespace}`, '--leader-elect=false', '--restart-coalesce=1s', '--log-level=info', '--log-format=text'],
    });
    await this.operator.waitReady();
    detail(`ready; health ${this.operator.healthUrl}/readyz, metrics ${this.operator.metricsUrl}`);

    say('Creating ThalassaSecret "db": the current version of the secret, checked every 2 s, restarting demo-app on change');
    await objects.createNamespacedCustomObject({
      group,
      version: 'v1alpha1',
      namespace: this.namespace,
      plural: 'thalassasecrets',
      body: {
        apiVersion: `${group}/v1alpha1`,
        kind: 'ThalassaSecret',
        metadata: { name: 'db' },
        spec: {
          storeRef: { name: 'thalassa' },
          refreshInterval: '2s',
          data: [{ key: 'password', path }],
          rolloutRestartTargets: [{ kind: 'Deployment', name: 'demo-app' }],
        },
      },
    });
    const synced = await until('ThalassaSecret db to be Ready', async () => {
      const resource = (await objects.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace: this.namespace, plural: 'thalassasecrets', name: 'db' })) as ThalassaSecret;
      const ready = resource.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' ? resource : undefined;
    });
    const secret = await core.readNamespacedSecret({ name: 'db', namespace: this.namespace });
    detail(`Ready: ${synced.status?.conditions?.[0]?.reason ?? ''} — ${synced.status?.conditions?.[0]?.message ?? ''}`);
    detail(`Secret db: password = ${Buffer.from(secret.data?.['password'] ?? '', 'base64').toString()} (a demo value)`);
    detail(`owned by ThalassaSecret db: ${secret.metadata?.ownerReferences?.[0]?.kind ?? 'no'}; annotation synced-versions = ${secret.metadata?.annotations?.[`${group}/synced-versions`] ?? ''}`);

    say('Publishing version 2 in Thalassa, as a rotation would');
    this.emulator.putSecret({ organisation, region, path, secretString: 'correct-horse-2' });
    const published = Date.now();
    await until('the Secret to hold version 2', async () => {
      const current = await core.readNamespacedSecret({ name: 'db', namespace: this.namespace });
      return Buffer.from(current.data?.['password'] ?? '', 'base64').toString() === 'correct-horse-2' ? current : undefined;
    });
    detail(`Secret db: password = correct-horse-2, ${((Date.now() - published) / 1000).toFixed(1)} s after publishing`);
    const annotation = restartAnnotation(synced);
    const deployment = await until('demo-app to be restarted', async () => {
      const current = await apps.readNamespacedDeployment({ name: 'demo-app', namespace: this.namespace });
      return current.spec?.template.metadata?.annotations?.[annotation] ? current : undefined;
    });
    detail(`Deployment demo-app restarted: pod template annotation ${annotation}=${deployment.spec?.template.metadata?.annotations?.[annotation] ?? ''}`);
    const reveals = Object.values(this.emulator.counters().byOperation.reveal).reduce((a, b) => a + b, 0);
    detail(`Thalassa API calls: ${this.emulator.counters().total} in all, ${reveals} reveals (one per version)`);

    say('Cleaning up');
  }

  async cleanUp(): Promise<void> {
    await this.operator?.stop();
    if (this.kc) {
      const core = this.kc.makeApiClient(CoreV1Api);
      await core.deleteNamespace({ name: this.namespace }).catch(() => undefined);
      if (this.createdCrds && mode !== 'local') {
        const extensions = this.kc.makeApiClient(ApiextensionsV1Api);
        for (const crd of customResourceDefinitions()) {
          await extensions.deleteCustomResourceDefinition({ name: (crd['metadata'] as { name: string }).name }).catch(() => undefined);
        }
      }
    }
    await this.emulator?.stop();
    await this.cluster?.stop();
    detail(mode === 'local' ? 'stopped the operator, the emulator and the control plane' : `stopped the operator and the emulator; deleted namespace ${this.namespace}${this.createdCrds ? ' and the CRDs' : ''}`);
  }
}

const demo = new Demo();
let failed = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stdout.write(`\n${signal}: cleaning up\n`);
    void demo.cleanUp().finally(() => process.exit(130));
  });
}
try {
  await demo.run();
} catch (error) {
  failed = true;
  process.stderr.write(`\ndemo failed at step ${step}: ${error instanceof Error ? error.message : String(error)}\n`);
  if (demo.operator) process.stderr.write(`operator output (last lines):\n${demo.operator.output.slice(-15).join('\n')}\n`);
}
await demo.cleanUp().catch((error: unknown) => {
  failed = true;
  process.stderr.write(`cleanup failed: ${String(error)}\n`);
});
process.stdout.write(failed ? '\nThe demo failed.\n' : '\nDone: a secret synced from Thalassa, rotated, and its workload restarted.\n');
process.exit(failed ? 1 : 0);
