/**
`npm run bench -- --peer eso`: External Secrets Operator and this operator side by side, on the
same API server and the same emulator, each alone (one after the other, the previous namespace
deleted and gone), N at a time. ESO is built from its Go module by tools/eso/build.sh (cached).

ESO reaches the Thalassa API the way an ESO user would today, through its webhook provider: one
`POST {apiURL}/v1/secrets/{region}/secret{path}/value` per ExternalSecret and refresh, the PAT in
the `Authorization: Token …` header, and the base64 `secretString` decoded by the
ExternalSecret's template. The template also copies the revealed version into an annotation, so
that the benchmark sees when a rotation arrives the same way for both operators.
*/
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { ThalassaSecret } from '../src/api/v1alpha1/thalassa-secret.ts';
import { managedSecretSelector, parseSyncedVersions, syncedVersionsAnnotation } from '../src/controllers/secret-metadata.ts';
import type { Emulator } from '../src/emulator/index.ts';
import { startCluster } from '../test/support/cluster.ts';
import { freePorts } from '../test/support/control-plane/local-control-plane.ts';
import { applyCrds } from '../test/support/crds.ts';
import { loadKubeConfig, retryTransient, waitFor } from '../test/support/kube.ts';
import { machineDescription, peerMarkdownTable, writePeerDocs, type PeerReport } from './report.ts';
import {
  concurrency,
  createResources,
  latencyMs,
  log,
  operatorArgs,
  organisation,
  outPath,
  prepareNamespace,
  readyReason,
  refreshS,
  region,
  seedSecrets,
  sizes,
  startBenchEmulator,
  startOperator,
  token,
  valueBytes,
  writeDocs,
} from './run.ts';
import { measureContender, type Contender, type RunningContender, type SideBySideOptions } from './side-by-side.ts';
import { runLimited } from './stats.ts';

const repoRoot = join(import.meta.dirname, '..');
const esoGroup = 'external-secrets.io';
const pathAnnotation = 'bench.thalassa.cloud/path';
const versionAnnotation = 'bench.thalassa.cloud/version';

/** The cached build folder (`external-secrets` and `crds/`), built first if missing. */
function esoBuild(): string {
  const output = execFileSync('bash', [join(repoRoot, 'tools/eso/build.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const dir = output.trim().split('\n').at(-1);
  if (!dir || !existsSync(join(dir, 'external-secrets'))) throw new Error('tools/eso/build.sh printed no ESO folder');
  return dir;
}

/** ESO's CRDs as its module ships them, applied server-side (re-runs update them) and waited for. */
async function applyEsoCrds(kc: KubeConfig, dir: string): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const file of readdirSync(join(dir, 'crds')).filter((f) => f.endsWith('.yaml'))) {
    const crd = parse(readFileSync(join(dir, 'crds', file), 'utf8')) as V1CustomResourceDefinition;
    const name = crd.metadata?.name ?? file;
    await retryTransient(() =>
      api.patchCustomResourceDefinition({ name, body: crd, fieldManager: 'thalassa-bench', force: true }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply)),
    );
    await waitFor(
      async () => (await api.readCustomResourceDefinition({ name })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
      { message: `CRD ${name} to be established` },
    );
  }
}

/**
ESO's core controller only: no webhook, no cert controller, none of the cluster-scoped or push
reconcilers the workload does not use, watching the one namespace (as this operator is run with
--namespaces). The client rate limit is lifted (a negative QPS is none, in client-go): ESO's default
of 50 requests a second would make the API server look slower than it is, and this operator has
no client-side limit either.
*/
export function esoFlags(namespace: string, metricsPort: number): string[] {
  return [
    `--metrics-addr=127.0.0.1:${metricsPort}`,
    `--namespace=${namespace}`,
    `--concurrent=${concurrency}`,
    '--enable-leader-election=false',
    '--enable-cluster-store-reconciler=false',
    '--enable-cluster-external-secret-reconciler=false',
    '--enable-push-secret-reconciler=false',
    '--enable-cluster-push-secret-reconciler=false',
    '--client-qps=-1',
    '--loglevel=error',
  ];
}

async function startEso(binary: string, kubeconfigPath: string, namespace: string): Promise<RunningContender> {
  const [metricsPort] = (await freePorts(1)) as [number];
  const child = spawn(binary, esoFlags(namespace, metricsPort), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: kubeconfigPath } });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
    output.splice(0, Math.max(0, output.length - 50));
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = once(child, 'exit');
  const tail = () => output.join('\n');
  // The metrics endpoint answers once the manager runs; its caches sync before the first reconcile.
  await waitFor(async () => child.exitCode === null && (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).ok, {
    timeoutMs: 60_000,
    message: () => `ESO to serve metrics; its output:\n${tail()}`,
  });
  return {
    pid: child.pid ?? 0,
    tail,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function esoContender(kc: KubeConfig, kubeconfigPath: string, emulator: Emulator, binary: string): Contender {
  const core = kc.makeApiClient(CoreV1Api);
  const objects = kc.makeApiClient(CustomObjectsApi);
  return {
    id: 'eso',
    plural: 'externalsecrets',
    resourcesPath: (namespace) => `/apis/${esoGroup}/v1/namespaces/${namespace}/externalsecrets`,
    isReady: (resource) => (resource as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    secretSelector: 'reconcile.external-secrets.io/managed=true',
    versionsIn: (secret) => {
      const path = secret.metadata.annotations?.[pathAnnotation];
      const version = Number(secret.metadata.annotations?.[versionAnnotation]);
      return path && Number.isInteger(version) ? [{ path, version }] : [];
    },
    prepare: async (namespace, prefix, n) => {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      // The webhook provider reads store secrets only with this label.
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'thalassa-token', labels: { 'external-secrets.io/type': 'webhook' } }, stringData: { token } } });
      await objects.createNamespacedCustomObject({
        group: esoGroup,
        version: 'v1',
        namespace,
        plural: 'secretstores',
        body: {
          apiVersion: `${esoGroup}/v1`,
          kind: 'SecretStore',
          metadata: { name: 'thalassa' },
          spec: {
            provider: {
              webhook: {
                // The key is query-escaped into the URL (`%2F` for `/`), which the API decodes.
                url: `${emulator.url}/v1/secrets/${region}/secret{{ .remoteRef.key }}/value`,
                method: 'POST',
                headers: { Authorization: 'Token {{ .auth.token }}', 'X-Organisation-Identity': organisation, 'Content-Type': 'application/json' },
                body: '{"path":"{{ .remoteRef.key }}"}',
                timeout: '10s',
                secrets: [{ name: 'auth', secretRef: { name: 'thalassa-token' } }],
                // The whole answer: `dataFrom.extract` makes its fields (path, version, secretString) template keys.
                result: {},
              },
            },
          },
        },
      });
      return seedSecrets(emulator, prefix, n);
    },
    create: async (namespace, paths) => {
      await runLimited(paths, 32, async (path, i) => {
        const name = `s-${String(i).padStart(5, '0')}`;
        await objects.createNamespacedCustomObject({
          group: esoGroup,
          version: 'v1',
          namespace,
          plural: 'externalsecrets',
          body: {
            apiVersion: `${esoGroup}/v1`,
            kind: 'ExternalSecret',
            metadata: { name },
            spec: {
              refreshInterval: `${refreshS}s`,
              secretStoreRef: { name: 'thalassa', kind: 'SecretStore' },
              target: {
                name,
                template: {
                  engineVersion: 'v2',
                  metadata: { annotations: { [pathAnnotation]: '{{ .path }}', [versionAnnotation]: '{{ .version }}' } },
                  data: { value: '{{ .secretString | b64dec }}' },
                },
              },
              dataFrom: [{ extract: { key: path } }],
            },
          },
        });
      });
    },
    start: (namespace) => startEso(binary, kubeconfigPath, namespace),
  };
}

function operatorContender(kc: KubeConfig, kubeconfigPath: string, emulator: Emulator): Contender {
  return {
    id: 'operator',
    plural: 'thalassasecrets',
    resourcesPath: (namespace) => `/apis/secrets.thalassa.cloud/v1alpha1/namespaces/${namespace}/thalassasecrets`,
    isReady: (resource) => readyReason(resource as unknown as ThalassaSecret) === 'Synced',
    secretSelector: managedSecretSelector,
    versionsIn: (secret) => parseSyncedVersions(secret.metadata.annotations?.[syncedVersionsAnnotation]),
    prepare: (namespace, prefix, n) => prepareNamespace(kc, emulator, namespace, prefix, n),
    create: (namespace, paths) => createResources(kc, namespace, paths),
    start: async (namespace) => {
      const operator = await startOperator(kubeconfigPath, namespace);
      await operator.waitReady();
      return { pid: operator.child.pid ?? 0, tail: () => operator.output.slice(-50).join('\n'), stop: () => operator.stop() };
    },
  };
}

export async function runPeerEso(): Promise<void> {
  const dir = esoBuild();
  const version = /^eso-(v[^-]+)-/.exec(basename(dir))?.[1] ?? 'unknown';
  const binary = join(dir, 'external-secrets');
  const cluster = await startCluster();
  const emulator = await startBenchEmulator();
  try {
    const kc = loadKubeConfig(cluster.kubeconfigPath);
    await applyCrds(kc);
    await applyEsoCrds(kc, dir);
    const options: SideBySideOptions = { kc, kubeconfigPath: cluster.kubeconfigPath, emulator, refreshS };
    const eso = esoContender(kc, cluster.kubeconfigPath, emulator, binary);
    const operator = operatorContender(kc, cluster.kubeconfigPath, emulator);
    const results: PeerReport['results'][number][] = [];
    for (const n of sizes) {
      // Back to back at each N, ESO first: the pair sees the same machine.
      const peer = await measureContender(options, eso, n);
      const ours = await measureContender(options, operator, n);
      results.push({ n, peer, operator: ours });
    }
    const report: PeerReport = {
      date: new Date().toISOString(),
      machine: machineDescription(),
      settings: { latencyMs, concurrency, refreshIntervalS: refreshS, valueBytes },
      peer: { name: 'ESO', version, command: ['external-secrets', ...esoFlags('<namespace>', 0).map((f) => f.replace(':0', ':<port>'))] },
      operator: { command: ['node', 'dist/main.js', ...operatorArgs('<namespace>')] },
      results,
    };
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${peerMarkdownTable(report)}\n`);
    if (writeDocs) writePeerDocs(report);
    log(`wrote ${outPath}${writeDocs ? ', bench/peer-eso.md and docs/benchmarks.md' : ''}`);
  } finally {
    await emulator.stop();
    await cluster.stop();
  }
}
