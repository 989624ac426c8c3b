/**
The Helm chart against the real API server: it lints and renders for every value set, its schema
refuses bad values, every manifest it renders is accepted by server-side apply, its CRDs are the
generated ones and carry helm.sh/resource-policy: keep (so helm uninstall leaves them), and the
operator, run with nothing but the chart's ServiceAccount token (so the API server enforces the
chart's RBAC), does its whole job cluster-wide and stays inside its namespaces when limited to them.
*/
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ApisApi,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type V1Deployment,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { customResourceDefinition, resources } from '../../src/api/crds.ts';
import type { ThalassaSecret } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { restartAnnotation } from '../../src/controllers/rollout-restarter.ts';
import { forceSyncAnnotation } from '../../src/controllers/thalassa-secret-controller.ts';
import { ensureControlPlaneBinaries } from '../support/cluster.ts';
import { applyCrds } from '../support/crds.ts';
import { createNamespace, deleteNamespace, isStatus, loadKubeConfig, uniqueName, waitFor } from '../support/kube.ts';
import { group, OperatorHarness, operatorToken, organisation, region } from '../support/operator-harness.ts';
import { OperatorProcess } from '../support/operator-process.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const chartDir = join(repoRoot, 'charts/thalassa-secrets-operator');
const ciDir = join(chartDir, 'ci');
const fieldManager = 'thalassa-chart-test';
/** The field manager of test/support/crds.ts (global setup). */
const sharedCrdFieldManager = 'thalassa-tests';
/** The test cluster serves the CRDs (global setup), as a cluster does after the chart's first install. */
const storeApiVersion = `${group}/v1alpha1/ClusterThalassaSecretStore`;

/** The default values, then every ci/*-values.yaml. */
const valueSets: [string, string[]][] = [
  ['the default values', []],
  ...readdirSync(ciDir)
    .filter((file) => file.endsWith('-values.yaml'))
    .sort()
    .map((file): [string, string[]] => [`ci/${file}`, ['-f', join(ciDir, file)]]),
];

const execFileAsync = promisify(execFile);

describe('the Helm chart', () => {
  let helmBin: string;
  let helmHome: string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let objectApi: KubernetesObjectApi;
  let servedGroupVersions: Set<string>;

  async function helm(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    // Helm keeps its caches and configuration under helmHome, and reaches no cluster for these commands.
    const env = { ...process.env, HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_DATA_HOME: join(helmHome, 'data') };
    try {
      const { stdout, stderr } = await execFileAsync(helmBin, [...args], { env, maxBuffer: 64 * 1024 * 1024 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: unknown; stdout?: string; stderr?: string };
      return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  async function render(release: string, namespace: string, valueArgs: readonly string[]): Promise<KubernetesObject[]> {
    const result = await helm(['template', release, chartDir, '--namespace', namespace, '--api-versions', storeApiVersion, ...valueArgs]);
    expect(result.code, result.stderr).toBe(0);
    // YAML 1.1, as Kubernetes reads manifests.
    const documents = parseAllDocuments(result.stdout, { version: '1.1' });
    const objects: KubernetesObject[] = [];
    for (const document of documents) {
      expect(document.errors).toEqual([]);
      const object = document.toJS() as KubernetesObject | null;
      if (object) objects.push(object);
    }
    return objects;
  }

  function served(object: KubernetesObject): boolean {
    return servedGroupVersions.has(object.apiVersion ?? '');
  }

  /**
  Server-side apply, for real. Returns what was applied; kinds the cluster does not serve are
  listed apart. The CRDs are shared with every other test: they are applied under the field
  manager of global setup, which applied the same ones, so that removeAll can restore them.
  */
  async function applyAll(objects: readonly KubernetesObject[]): Promise<{ applied: KubernetesObject[]; notServed: string[] }> {
    const applied: KubernetesObject[] = [];
    const notServed: string[] = [];
    for (const object of objects) {
      if (!served(object)) {
        notServed.push(`${object.apiVersion ?? ''}/${object.kind ?? ''}`);
        continue;
      }
      const manager = object.kind === 'CustomResourceDefinition' ? sharedCrdFieldManager : fieldManager;
      const result = await objectApi.patch(object, undefined, undefined, manager, true, PatchStrategy.ServerSideApply);
      expect(result.metadata?.uid, `${object.kind ?? ''} ${object.metadata?.name ?? ''}`).toBeTruthy();
      applied.push(object);
    }
    return { applied, notServed };
  }

  /** Deletes what applyAll applied, cluster-scoped objects included; the CRDs are put back as global setup left them. */
  async function removeAll(applied: readonly KubernetesObject[]): Promise<void> {
    for (const object of [...applied].reverse()) {
      if (object.kind === 'CustomResourceDefinition') continue;
      await objectApi.delete(object).catch((error: unknown) => {
        if (!isStatus(error, 404)) throw error;
      });
    }
    if (applied.some((o) => o.kind === 'CustomResourceDefinition')) await applyCrds(kc);
  }

  /** Creates the namespaces a value set names (watchNamespaces) that do not exist yet; returns them. */
  async function ensureNamespaces(names: readonly string[]): Promise<string[]> {
    const created: string[] = [];
    for (const name of names) {
      const exists = await core.readNamespace({ name }).then(
        () => true,
        (error: unknown) => {
          if (isStatus(error, 404)) return false;
          throw error;
        },
      );
      if (!exists) {
        await core.createNamespace({ body: { metadata: { name } } });
        created.push(name);
      }
    }
    return created;
  }

  beforeAll(async () => {
    helmBin = join(ensureControlPlaneBinaries(), 'helm');
    helmHome = mkdtempSync(join(tmpdir(), 'thalassa-helm-'));
    kc = loadKubeConfig(inject('kubeconfigPath'));
    core = kc.makeApiClient(CoreV1Api);
    objectApi = KubernetesObjectApi.makeApiClient(kc);
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    servedGroupVersions = new Set(['v1', ...groups.groups.flatMap((g) => g.versions.map((v) => v.groupVersion))]);
  });

  afterAll(() => {
    rmSync(helmHome, { recursive: true, force: true });
  });

  describe('rendering', () => {
    it.for(valueSets)('helm lint --strict passes with %s', async ([, valueArgs]) => {
      const result = await helm(['lint', '--strict', chartDir, ...valueArgs]);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('0 chart(s) failed');
    });

    it.for(valueSets)('helm template renders a Deployment, a ServiceAccount and RBAC with %s', async ([, valueArgs]) => {
      const objects = await render('tso-render', 'operators', valueArgs);
      const kinds = objects.map((o) => o.kind);
      expect(kinds).toContain('Deployment');
      expect(kinds).toContain('ServiceAccount');
      expect(kinds).toContain('ClusterRole');
      expect(kinds).toContain('ClusterRoleBinding');
    });

    it.for([
      [['--set', 'replicas=two'], "at '/replicas': got string, want integer"],
      [['--set', 'operator.logLevel=loud'], '/operator/logLevel'],
      [['--set', 'leaderElection.leaseDuration=15'], '/leaderElection/leaseDuration'],
      [['--set', 'image.pullPolicy=Sometimes'], '/image/pullPolicy'],
      [['--set', 'replicaCount=2'], "additional properties 'replicaCount' not allowed"],
      [['--set', 'workloadIdentity.enabled=yes'], '/workloadIdentity/enabled'],
    ] as const)('values.schema.json refuses %s', async ([args, message]) => {
      const result = await helm(['template', 'tso-bad', chartDir, ...args]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("values don't meet the specifications of the schema");
      expect(result.stderr).toContain(message);
    });

    it('refuses several replicas without leader election (they would all write)', async () => {
      const result = await helm(['template', 'tso-bad', chartDir, '--set', 'replicas=2', '--set', 'leaderElection.enabled=false']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('replicas > 1 requires leaderElection.enabled');
    });

    it('runs the operator locked down by default: non-root 65532, read-only root, no privilege escalation, no capabilities, probes on the health port', async () => {
      const objects = await render('tso-render', 'operators', []);
      const deployment = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
      const pod = deployment.spec?.template.spec;
      const container = pod?.containers[0];
      expect(deployment.spec?.replicas).toBe(2);
      expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container?.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container?.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'health' });
      expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'health' });
      expect(container?.ports).toEqual([
        { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
        { name: 'health', containerPort: 8081, protocol: 'TCP' },
      ]);
      expect(container?.args).toContain('--leader-elect=true');
      expect(container?.env?.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])).toEqual([
        ['POD_NAME', 'metadata.name'],
        ['POD_NAMESPACE', 'metadata.namespace'],
      ]);
      expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toHaveLength(1);
      expect(objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'NetworkPolicy' || o.kind === 'ClusterThalassaSecretStore')).toEqual([]);
    });

    it('renders no default store on a cluster that does not serve its kind yet (the first install); the next upgrade does', async () => {
      const args = ['--set', 'defaultClusterStore.create=true', '--set', 'defaultClusterStore.region=nl-01', '--set', 'defaultClusterStore.organisation=my-org'];
      const first = await helm(['template', 'tso-render', chartDir, ...args]);
      expect(first.code, first.stderr).toBe(0);
      const kinds = parseAllDocuments(first.stdout, { version: '1.1' }).map((d) => (d.toJS() as KubernetesObject | null)?.kind);
      expect(kinds).toContain('CustomResourceDefinition');
      expect(kinds).not.toContain('ClusterThalassaSecretStore');
      const later = await render('tso-render', 'operators', args);
      expect(later.filter((o) => o.kind === 'ClusterThalassaSecretStore').map((o) => o.metadata?.name)).toEqual(['default']);
    });
  });

  describe('CRDs', () => {
    it.for(resources.map((r) => [r.plural, r] as const))('templates/crds/%s.yaml renders the generated CRD, annotated keep by default', async ([plural, resource]) => {
      const result = await helm(['template', 'tso-crds', chartDir, '--show-only', `templates/crds/${plural}.yaml`]);
      expect(result.code, result.stderr).toBe(0);
      const rendered = parse(result.stdout, { version: '1.1' }) as { metadata: { name: string; annotations?: Record<string, string> }; spec: unknown };
      const expected = customResourceDefinition(resource);
      // The same spec as crds/ (the descriptions that quote Go templates come through Helm intact).
      expect(rendered.spec).toEqual(expected['spec']);
      expect(rendered.metadata.name).toBe((expected['metadata'] as { name: string }).name);
      expect(rendered.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    });

    it('leaves the keep annotation off with crds.keep=false, and the CRDs out with crds.install=false', async () => {
      const unkept = (await render('tso-crds', 'operators', ['--set', 'crds.keep=false'])).filter((o) => o.kind === 'CustomResourceDefinition');
      expect(unkept).toHaveLength(resources.length);
      for (const crd of unkept) expect(crd.metadata?.annotations).toBeUndefined();
      const none = await render('tso-crds', 'operators', ['--set', 'crds.install=false']);
      expect(none.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
    });

    it("the API server stores the chart's CRDs with helm.sh/resource-policy: keep", async () => {
      const crds = (await render('tso-crds', 'operators', [])).filter((o) => o.kind === 'CustomResourceDefinition');
      const { applied } = await applyAll(crds);
      try {
        for (const crd of crds) {
          const stored = await objectApi.read({ apiVersion: crd.apiVersion ?? '', kind: crd.kind ?? '', metadata: { name: crd.metadata?.name ?? '' } });
          expect(stored.metadata?.annotations?.['helm.sh/resource-policy']).toBe('keep');
        }
      } finally {
        await removeAll(applied);
      }
    });
  });

  describe('server-side apply', () => {
    it.for(valueSets)('the API server accepts every manifest rendered with %s', async ([, valueArgs]) => {
      const namespace = await createNamespace(kc, 'chart');
      const release = uniqueName('tso');
      const valuesFile = valueArgs[1];
      const watched = valuesFile ? ((parse(readFileSync(valuesFile, 'utf8')) as { watchNamespaces?: string[] }).watchNamespaces ?? []) : [];
      const createdNamespaces = await ensureNamespaces(watched);
      let applied: KubernetesObject[] = [];
      try {
        const objects = await render(release, namespace, valueArgs);
        const result = await applyAll(objects);
        applied = result.applied;
        // The only kind this control plane does not serve is the Prometheus Operator's
        // ServiceMonitor (no monitoring.coreos.com CRDs); everything else went in for real.
        for (const kind of result.notServed) expect(kind).toBe('monitoring.coreos.com/v1/ServiceMonitor');
        expect(result.applied.length + result.notServed.length).toBe(objects.length);
        const ownNamespaced = applied.filter((o) => o.metadata?.namespace === namespace).map((o) => o.kind);
        expect(ownNamespaced).toContain('Deployment');
        expect(ownNamespaced).toContain('ServiceAccount');
      } finally {
        await removeAll(applied);
        for (const name of [namespace, ...createdNamespaces]) await deleteNamespace(kc, name);
      }
    });
  });

  describe('the operator with the chart\'s ServiceAccount and RBAC', () => {
    let h: OperatorHarness;
    let workDir: string;
    const processes: OperatorProcess[] = [];

    interface Installed {
      readonly namespace: string;
      readonly serviceAccount: string;
      readonly deployment: V1Deployment;
      readonly objects: KubernetesObject[];
      uninstall(): Promise<void>;
    }

    /**
    The chart in a fresh release namespace, applied as `helm install` would, minus the CRDs (global
    setup applied the same ones; see the CRDs tests) and minus kinds the cluster does not serve.
    */
    async function install(valueArgs: readonly string[]): Promise<Installed> {
      const namespace = await createNamespace(kc, 'chart');
      const objects = (await render(uniqueName('tso'), namespace, valueArgs)).filter((o) => o.kind !== 'CustomResourceDefinition');
      const { applied } = await applyAll(objects);
      const serviceAccount = objects.find((o) => o.kind === 'ServiceAccount')?.metadata?.name ?? '';
      const deployment = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
      return {
        namespace,
        serviceAccount,
        deployment,
        objects,
        uninstall: async () => {
          await removeAll(applied);
          await deleteNamespace(kc, namespace);
        },
      };
    }

    /** A token of the chart's ServiceAccount from the TokenRequest API, as the kubelet mounts it. */
    async function serviceAccountToken(installed: Installed, audiences: string[] = [], expirationSeconds = 3600): Promise<string> {
      const request = await core.createNamespacedServiceAccountToken({
        name: installed.serviceAccount,
        namespace: installed.namespace,
        body: { spec: { audiences, expirationSeconds } },
      });
      const token = request.status?.token;
      if (!token) throw new Error('TokenRequest returned no token');
      return token;
    }

    /** A kubeconfig with only that bearer token and the cluster's CA: the API server's RBAC applies to it. */
    function kubeconfigWithToken(token: string): string {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [{ ...cluster, name: 'cluster' }],
        users: [{ name: 'operator', token }],
        contexts: [{ name: 'operator', cluster: 'cluster', user: 'operator' }],
        currentContext: 'operator',
      });
      const path = join(workDir, uniqueName('kubeconfig'));
      writeFileSync(path, config.exportConfig(), { mode: 0o600 });
      return path;
    }

    function operatorContainer(installed: Installed) {
      const container = installed.deployment.spec?.template.spec?.containers[0];
      if (!container) throw new Error('the rendered Deployment has no container');
      return container;
    }

    /** The operator with the rendered Deployment's args, on free loopback ports instead of :8080/:8081. */
    async function startOperator(installed: Installed, kubeconfig: string, env: Record<string, string> = {}): Promise<OperatorProcess> {
      const args = (operatorContainer(installed).args ?? []).filter((a) => !a.startsWith('--metrics-address=') && !a.startsWith('--health-address='));
      const operator = await OperatorProcess.start({
        kubeconfig,
        args: [...args, '--log-level=debug'],
        env: { POD_NAME: `${installed.serviceAccount}-0`, POD_NAMESPACE: installed.namespace, ...env },
      });
      processes.push(operator);
      await operator.waitReady();
      return operator;
    }

    async function stopOperator(operator: OperatorProcess): Promise<void> {
      await operator.stop();
      processes.splice(processes.indexOf(operator), 1);
    }

    async function canI(kubeconfig: string, attributes: V1ResourceAttributes): Promise<boolean> {
      const review = await loadKubeConfig(kubeconfig)
        .makeApiClient(AuthorizationV1Api)
        .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } });
      return review.status?.allowed === true;
    }

    /** A request the API server refused is logged with code 403, reason Forbidden and a message that says "forbidden". */
    function forbiddenLines(operator: OperatorProcess): string[] {
      return operator.output.filter((line) => /forbidden|"code":403/i.test(line));
    }

    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), 'thalassa-chart-'));
      h = await OperatorHarness.start({ withoutOperator: true });
    });

    afterAll(async () => {
      await Promise.all(processes.map(async (p) => await p.stop()));
      await h.stop();
      rmSync(workDir, { recursive: true, force: true });
    });

    it('cluster-wide: syncs and rotates a secret, restarts a Deployment, and authenticates with its own projected token and with a TokenRequest', async () => {
      const defaultStore = uniqueName('tso-default');
      const installed = await install([
        '-f',
        join(ciDir, 'workload-identity-values.yaml'),
        '--set',
        `defaultClusterStore.name=${defaultStore}`,
        '--set',
        `defaultClusterStore.apiURL=${h.emulator.url}`,
        '--set',
        `defaultClusterStore.region=${region}`,
        '--set',
        `defaultClusterStore.organisation=${organisation}`,
        // Served by namespace labels: the operator has to read the Namespace.
        '--set-json',
        `defaultClusterStore.conditions=${JSON.stringify([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': h.namespace } } }])}`,
      ]);
      let operator: OperatorProcess | undefined;
      try {
        // What the kubelet would do with the rendered projected volume: a token of the chart's
        // ServiceAccount for the configured audience, in the file THALASSA_SUBJECT_TOKEN_FILE names.
        const container = operatorContainer(installed);
        const env = new Map((container.env ?? []).map((e) => [e.name, e.value]));
        const projected = installed.deployment.spec?.template.spec?.volumes?.find((v) => v.name === 'thalassa-token')?.projected?.sources?.[0]?.serviceAccountToken;
        const mount = container.volumeMounts?.find((m) => m.name === 'thalassa-token');
        expect(projected?.audience).toBe('https://api.thalassa.cloud');
        expect(mount?.readOnly).toBe(true);
        expect(env.get('THALASSA_SUBJECT_TOKEN_FILE')).toBe(`${mount?.mountPath ?? ''}/${projected?.path ?? ''}`);
        expect(env.get('THALASSA_SERVICE_ACCOUNT_ID')).toBe('sa-operator');
        const subjectTokenFile = join(workDir, 'projected-token');
        writeFileSync(subjectTokenFile, await serviceAccountToken(installed, [projected?.audience ?? ''], projected?.expirationSeconds ?? 3600));
        h.emulator.seed({
          federatedIdentities: [
            {
              serviceAccountId: 'sa-operator',
              organisation,
              principal: 'operator',
              subject: `system:serviceaccount:${installed.namespace}:${installed.serviceAccount}`,
              audiences: ['https://api.thalassa.cloud'],
            },
            {
              serviceAccountId: 'sa-app',
              organisation,
              principal: 'operator',
              subject: `system:serviceaccount:${h.namespace}:app-reader`,
              audiences: ['https://api.thalassa.cloud'],
            },
          ],
        });

        const kubeconfig = kubeconfigWithToken(await serviceAccountToken(installed));
        expect(await canI(kubeconfig, { verb: 'list', resource: 'secrets' })).toBe(true);
        // Leader election: its own Lease in the release namespace, and nothing more.
        const leaseName = container.args?.find((a) => a.startsWith('--leader-election-id='))?.split('=')[1] ?? '';
        expect(leaseName).toBe(installed.deployment.metadata?.name);
        const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: installed.namespace };
        expect(await canI(kubeconfig, { ...lease, verb: 'create' })).toBe(true);
        expect(await canI(kubeconfig, { ...lease, verb: 'get', name: leaseName })).toBe(true);
        expect(await canI(kubeconfig, { ...lease, verb: 'update', name: leaseName })).toBe(true);
        expect(await canI(kubeconfig, { ...lease, verb: 'update', name: 'someone-else' })).toBe(false);
        expect(await canI(kubeconfig, { ...lease, verb: 'get', namespace: h.namespace, name: leaseName })).toBe(false);
        operator = await startOperator(installed, kubeconfig, {
          THALASSA_SUBJECT_TOKEN_FILE: subjectTokenFile,
          THALASSA_SERVICE_ACCOUNT_ID: env.get('THALASSA_SERVICE_ACCOUNT_ID') ?? '',
        });

        // A store with a token Secret; a sync, a rotation forced by the annotation, a restart.
        const apps = h.kc.makeApiClient(AppsV1Api);
        await h.createDeployment('api');
        h.putSecret('/chart/password', 'one');
        await h.createThalassaSecret('rotating', { data: [{ key: 'password', path: '/chart/password' }], rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }] });
        await h.waitForData('rotating', { password: 'one' }, 60_000);
        h.putSecret('/chart/password', 'two');
        await h.patchThalassaSecret('rotating', { metadata: { annotations: { [forceSyncAnnotation]: 'rotate-1' } } });
        await h.waitForData('rotating', { password: 'two' }, 60_000);
        const annotation = restartAnnotation(await h.getThalassaSecret('rotating'));
        await waitFor(
          async () => (await apps.readNamespacedDeployment({ name: 'api', namespace: h.namespace })).spec?.template.metadata?.annotations?.[annotation],
          { message: 'the Deployment to be restarted' },
        );
        await waitFor(async () => (await h.events()).some((e) => e.includes('RolloutRestartTriggered')), { message: 'the restart Event' });

        // The chart's default ClusterThalassaSecretStore, with the operator's own projected token,
        // for namespaces selected by label.
        h.putSecret('/chart/shared', 'for-everyone');
        await h.objects.createNamespacedCustomObject({
          group,
          version: 'v1alpha1',
          namespace: h.namespace,
          plural: 'thalassasecrets',
          body: { apiVersion: `${group}/v1alpha1`, kind: 'ThalassaSecret', metadata: { name: 'via-default-store' }, spec: { data: [{ key: 'shared', path: '/chart/shared' }] } },
        });
        await h.waitForData('via-default-store', { shared: 'for-everyone' }, 60_000);
        await waitFor(
          async () => {
            const store = (await h.objects.getClusterCustomObject({ group, version: 'v1alpha1', plural: 'clusterthalassasecretstores', name: defaultStore })) as {
              status?: { conditions?: { type: string; status: string }[] };
            };
            return store.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          },
          { message: `ClusterThalassaSecretStore ${defaultStore} to be Ready` },
        );

        // A ClusterThalassaSecret without storeRef (the chart's default cluster store): the operator
        // creates, updates and deletes its ThalassaSecret with the chart's RBAC.
        const fanOut = uniqueName('fan-out');
        const clusterSecrets = { group, version: 'v1alpha1', plural: 'clusterthalassasecrets' };
        await h.objects.createClusterCustomObject({
          ...clusterSecrets,
          body: { apiVersion: `${group}/v1alpha1`, kind: 'ClusterThalassaSecret', metadata: { name: fanOut }, spec: { namespaces: [h.namespace], data: [{ key: 'shared', path: '/chart/shared' }] } },
        });
        try {
          await h.waitForData(fanOut, { shared: 'for-everyone' }, 60_000);
          await h.objects.patchClusterCustomObject({ ...clusterSecrets, name: fanOut, body: { spec: { refreshInterval: '1m' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
          await waitFor(async () => (await h.getThalassaSecret(fanOut)).spec.refreshInterval === '1m', { message: 'the ClusterThalassaSecret change to reach its ThalassaSecret' });
          await h.objects.patchClusterCustomObject({ ...clusterSecrets, name: fanOut, body: { spec: { namespaces: ['not-there'] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
          await waitFor(async () => (await h.listCustomObjects<ThalassaSecret>('thalassasecrets')).every((r) => r.metadata.name !== fanOut), {
            message: 'the ThalassaSecret of a namespace no longer listed to be deleted',
          });
        } finally {
          await h.objects.deleteClusterCustomObject({ ...clusterSecrets, name: fanOut }).catch(() => undefined);
        }

        // A namespaced store whose workload identity is another ServiceAccount: the operator mints its token.
        await h.core.createNamespacedServiceAccount({ namespace: h.namespace, body: { metadata: { name: 'app-reader' } } });
        await h.createStore('workload-identity', { auth: { workloadIdentity: { serviceAccountID: 'sa-app', serviceAccountRef: { name: 'app-reader' } } } });
        await h.createThalassaSecret('via-token-request', { storeRef: { name: 'workload-identity' }, data: [{ key: 'shared', path: '/chart/shared' }] });
        await h.waitForData('via-token-request', { shared: 'for-everyone' }, 60_000);

        expect(forbiddenLines(operator)).toEqual([]);
      } finally {
        if (operator) await stopOperator(operator);
        await installed.uninstall();
      }
    });

    it('namespace-limited: works in its namespace, is denied Secrets elsewhere, and leaves a ThalassaSecret elsewhere alone', async () => {
      const outside = await createNamespace(kc, 'outside');
      const installed = await install(['--set-json', `watchNamespaces=${JSON.stringify([h.namespace])}`]);
      let operator: OperatorProcess | undefined;
      try {
        // Outside: everything a sync would need, so that only the operator's scope keeps it untouched.
        await core.createNamespacedSecret({ namespace: outside, body: { metadata: { name: 'thalassa-token' }, stringData: { token: operatorToken } } });
        await h.createStore('thalassa', {}, outside);
        h.putSecret('/chart/scoped', 'scoped');
        await h.objects.createNamespacedCustomObject({
          group,
          version: 'v1alpha1',
          namespace: outside,
          plural: 'thalassasecrets',
          body: {
            apiVersion: `${group}/v1alpha1`,
            kind: 'ThalassaSecret',
            metadata: { name: 'elsewhere' },
            spec: { storeRef: { name: 'thalassa' }, data: [{ key: 'v', path: '/chart/scoped' }] },
          },
        });

        const kubeconfig = kubeconfigWithToken(await serviceAccountToken(installed));
        // The API server's answers for the chart's ServiceAccount.
        expect(await canI(kubeconfig, { verb: 'get', resource: 'secrets', namespace: h.namespace })).toBe(true);
        expect(await canI(kubeconfig, { verb: 'create', resource: 'secrets', namespace: h.namespace })).toBe(true);
        expect(await canI(kubeconfig, { verb: 'get', resource: 'secrets', namespace: outside })).toBe(false);
        expect(await canI(kubeconfig, { verb: 'list', resource: 'secrets', namespace: outside })).toBe(false);
        expect(await canI(kubeconfig, { verb: 'list', resource: 'secrets' })).toBe(false);
        expect(await canI(kubeconfig, { verb: 'list', group, resource: 'thalassasecrets', namespace: outside })).toBe(false);
        expect(await canI(kubeconfig, { verb: 'get', resource: 'namespaces', name: h.namespace })).toBe(true);
        expect(await canI(kubeconfig, { verb: 'get', resource: 'namespaces', name: outside })).toBe(false);
        expect(await canI(kubeconfig, { verb: 'list', group, resource: 'clusterthalassasecretstores' })).toBe(true);
        // And a direct read is refused.
        const read = await loadKubeConfig(kubeconfig)
          .makeApiClient(CoreV1Api)
          .readNamespacedSecret({ name: 'thalassa-token', namespace: outside })
          .then(
            () => 200,
            (error: unknown) => (isStatus(error, 403) ? 403 : error),
          );
        expect(read).toBe(403);

        operator = await startOperator(installed, kubeconfig);
        expect(operatorContainer(installed).args).toContain(`--namespaces=${h.namespace}`);
        h.putSecret('/chart/inside', 'inside');
        await h.createThalassaSecret('inside', { data: [{ key: 'v', path: '/chart/inside' }] });
        await h.waitForData('inside', { v: 'inside' }, 60_000);

        // A ClusterThalassaSecret that names both namespaces is written only into the watched one.
        const clusterStore = await h.createClusterStore('chart-limited');
        const limited = uniqueName('limited');
        const clusterSecrets = { group, version: 'v1alpha1', plural: 'clusterthalassasecrets' };
        await h.objects.createClusterCustomObject({
          ...clusterSecrets,
          body: {
            apiVersion: `${group}/v1alpha1`,
            kind: 'ClusterThalassaSecret',
            metadata: { name: limited },
            spec: { storeRef: { kind: 'ClusterThalassaSecretStore', name: clusterStore }, namespaces: [h.namespace, outside], data: [{ key: 'v', path: '/chart/inside' }] },
          },
        });
        try {
          await h.waitForData(limited, { v: 'inside' }, 60_000);
          const status = await waitFor(
            async () => {
              const parent = (await h.objects.getClusterCustomObject({ ...clusterSecrets, name: limited })) as { status?: { provisionedNamespaces?: number; failures?: { namespace: string; reason: string }[] } };
              return parent.status?.provisionedNamespaces === 1 && parent.status.failures?.length === 1 ? parent.status : undefined;
            },
            { message: 'the ClusterThalassaSecret to count one namespace provisioned and one not watched' },
          );
          expect(status.failures).toEqual([expect.objectContaining({ namespace: outside, reason: 'NamespaceNotWatched' })]);
          const outsideChildren = (await h.listCustomObjects<ThalassaSecret>('thalassasecrets', outside)).map((r) => r.metadata.name);
          expect(outsideChildren).not.toContain(limited);
        } finally {
          await h.objects.deleteClusterCustomObject({ ...clusterSecrets, name: limited }).catch(() => undefined);
        }

        // The resource outside was created before the one inside was synced: it was never touched.
        const elsewhere = (await h.objects.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace: outside, plural: 'thalassasecrets', name: 'elsewhere' })) as ThalassaSecret;
        expect(elsewhere.status).toBeUndefined();
        const secret = await core.readNamespacedSecret({ name: 'elsewhere', namespace: outside }).then(
          () => 'exists',
          (error: unknown) => (isStatus(error, 404) ? 'absent' : error),
        );
        expect(secret).toBe('absent');
        expect(forbiddenLines(operator)).toEqual([]);
      } finally {
        if (operator) await stopOperator(operator);
        await installed.uninstall();
        await deleteNamespace(kc, outside);
      }
    });

    it('sharded: two members with the chart\'s RBAC share the ThalassaSecrets, and a member that stops hands its share over', async () => {
      const installed = await install(['-f', join(ciDir, 'sharding-values.yaml'), '--set-json', `watchNamespaces=${JSON.stringify([h.namespace])}`]);
      const members: OperatorProcess[] = [];
      try {
        expect(installed.objects.find((o) => o.kind === 'PodDisruptionBudget')).toMatchObject({ spec: { maxUnavailable: 1 } });
        const kubeconfig = kubeconfigWithToken(await serviceAccountToken(installed));
        const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: installed.namespace };
        // Member Leases are named after pods; the leader watches them all and takes over dead ones.
        for (const verb of ['list', 'watch', 'create']) expect(await canI(kubeconfig, { ...lease, verb }), verb).toBe(true);
        expect(await canI(kubeconfig, { ...lease, verb: 'update', name: 'any-member' })).toBe(true);
        expect(await canI(kubeconfig, { ...lease, verb: 'list', namespace: h.namespace })).toBe(false);
        for (const pod of ['tso-member-0', 'tso-member-1']) members.push(await startOperator(installed, kubeconfig, { POD_NAME: pod }));
        const names = Array.from({ length: 16 }, (_, i) => `sharded-${i}`);
        h.putSecret('/chart/sharded', 'shared-out');
        for (const name of names) await h.createThalassaSecret(name, { data: [{ key: 'value', path: '/chart/sharded' }] });
        const owners = async () => new Map((await h.listCustomObjects<ThalassaSecret>('thalassasecrets')).filter((r) => names.includes(r.metadata.name)).map((r) => [r.metadata.name, r.metadata.labels?.['shard.secrets.thalassa.cloud/member']]));
        for (const name of names) await h.waitForData(name, { value: 'shared-out' }, 60_000);
        // Sixteen resources on two members: both have some (all on one: a chance of 1 in 32,768).
        expect(new Set((await owners()).values())).toEqual(new Set(['tso-member-0', 'tso-member-1']));
        const [first, second] = members;
        if (!first || !second) throw new Error('two members');
        // SIGTERM: the member releases its Lease, and its share moves at once.
        await stopOperator(second);
        await waitFor(async () => [...(await owners()).values()].every((owner) => owner === 'tso-member-0'), { timeoutMs: 60_000, message: 'the stopped member\'s share to move' });
        h.putSecret('/chart/sharded', 'after-handover');
        for (const name of names) await h.patchThalassaSecret(name, { metadata: { annotations: { [forceSyncAnnotation]: 'after-handover' } } });
        for (const name of names) await h.waitForData(name, { value: 'after-handover' }, 60_000);
        expect(forbiddenLines(first)).toEqual([]);
        expect(forbiddenLines(second)).toEqual([]);
      } finally {
        for (const member of members) if (processes.includes(member)) await stopOperator(member);
        for (const name of Array.from({ length: 16 }, (_, i) => `sharded-${i}`)) await h.deleteThalassaSecret(name).catch(() => undefined);
        await installed.uninstall();
      }
    });
  });
});
