/**
Kubernetes API writes, counted by the API server itself: `apiserver_request_total` on its
/metrics, by verb and resource. Counting on the server side measures every operator the same
way, whatever its client library, and includes requests a client-side counter could miss (retries,
the Event broadcaster's own client).
*/
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** `VERB resource[/subresource]` → requests served. */
export type WriteCounts = ReadonlyMap<string, number>;

const mutatingVerbs = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);
/**
Not the operators' doing: the API server renews its identity lease every 10 s, and authentication
and authorization reviews are how the control plane checks its own callers.
*/
const ignoredResources = new Set(['leases', 'tokenreviews', 'subjectaccessreviews', 'selfsubjectaccessreviews']);

async function fetchText(kc: KubeConfig, path: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig names no cluster');
  const url = new URL(path, server);
  const options: RequestOptions = { method: 'GET', hostname: url.hostname, port: url.port, path: url.pathname };
  await kc.applyToHTTPSOptions(options);
  return await new Promise<string>((resolve, reject) => {
    const req = request(options, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        if (response.statusCode === 200) resolve(text);
        else reject(new Error(`GET ${path}: ${String(response.statusCode)}`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every mutating request the API server has served since it started, by verb and resource. */
export async function apiServerWrites(kc: KubeConfig): Promise<WriteCounts> {
  const counts = new Map<string, number>();
  for (const line of (await fetchText(kc, '/metrics')).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const match = /^apiserver_request_total\{(.*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = new Map([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    const verb = labels.get('verb') ?? '';
    const resource = labels.get('resource') ?? '';
    if (!mutatingVerbs.has(verb) || ignoredResources.has(resource)) continue;
    const subresource = labels.get('subresource');
    const key = `${verb} ${resource}${subresource ? `/${subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(match[2]));
  }
  return counts;
}

/** The writes between two snapshots, less those the benchmark made itself (`own`, by the same keys). */
export function writesBetween(before: WriteCounts, after: WriteCounts, own: WriteCounts = new Map()): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, count] of after) {
    const made = count - (before.get(key) ?? 0) - (own.get(key) ?? 0);
    if (made > 0) delta.set(key, made);
  }
  return delta;
}

export function totalWrites(counts: WriteCounts): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}
