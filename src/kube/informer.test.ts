import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { useLoopbackApi } from '../../test/support/loopback-api.ts';
import { createLogger } from '../observability/logger.ts';
import { Informer } from './informer.ts';
import type { KubeObject } from './list-watch.ts';

const loopback = useLoopbackApi();

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('Informer', () => {
  it('reopens a watch that ends at once only after a jittered pause, not in a tight loop', async () => {
    let watches = 0;
    const url = await loopback.listen((request, response) => {
      if (request.url?.includes('watch=true')) {
        watches++;
        // A proxy or a server going away: 200, then the stream ends at once with nothing in it.
        response.writeHead(200, { 'content-type': 'application/json' }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [], metadata: { resourceVersion: '7' } }));
    });
    const kube = loopback.client(url);
    const logs: { msg: string; retryInMs?: number }[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          for (const line of chunk.toString('utf8').split('\n').filter((l) => l !== '')) logs.push(JSON.parse(line) as { msg: string; retryInMs?: number });
          done();
        },
      }),
    });
    const restarts: string[] = [];
    const informer = new Informer<KubeObject>({
      name: 'things',
      client: kube,
      path: '/api/v1/namespaces/a/configmaps',
      logger,
      onRestart: (reason) => restarts.push(reason),
      backoff: { baseMs: 20, maxMs: 80 },
    });
    informer.start();
    loopback.defer(async () => await informer.stop());
    await informer.synced;
    await until(() => watches >= 4);
    const pauses = logs.filter((l) => l.msg === 'watch ended at once, reopening after a pause');
    expect(pauses.length).toBeGreaterThanOrEqual(3);
    for (const pause of pauses) expect(pause.retryInMs).toBeGreaterThanOrEqual(20);
    expect(restarts.filter((r) => r === 'ended').length).toBeGreaterThanOrEqual(3);
    // Each reopening waited for its pause: one watch per logged pause (plus the first, and perhaps one in flight).
    expect(watches).toBeLessThanOrEqual(pauses.length + 2);
  });

  it('lists page by page into the cache, keeping the projection of each object', async () => {
    const requests: string[] = [];
    const item = (name: string) => ({ metadata: { name, namespace: 'a', resourceVersion: '1', managedFields: [{ manager: 'm' }], creationTimestamp: 't' }, data: { k: 'v' } });
    const url = await loopback.listen((request, response) => {
      const query = new URL(request.url ?? '', 'http://x').searchParams;
      if (query.get('watch') === 'true') return; // held open until the informer stops
      requests.push(`limit=${query.get('limit') ?? ''} continue=${query.get('continue') ?? ''}`);
      const second = query.get('continue') === 'page-2';
      const body = second ? { items: [item('c')], metadata: { resourceVersion: '9' } } : { items: [item('a'), item('b')], metadata: { resourceVersion: '8', continue: 'page-2' } };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    const informer = new Informer<KubeObject & { data?: unknown }>({ name: 'things', client: loopback.client(url), path: '/api/v1/namespaces/a/configmaps', logger: createLogger({ level: 'silent' }) });
    informer.start();
    loopback.defer(async () => await informer.stop());
    await informer.synced;
    expect(requests).toEqual(['limit=500 continue=', 'limit=500 continue=page-2']);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(informer.get('a/b')).toEqual({ metadata: { name: 'b', namespace: 'a', resourceVersion: '1' }, data: { k: 'v' } });
  });
});
