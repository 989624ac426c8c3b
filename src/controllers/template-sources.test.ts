import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { thalassaSecretSpec, type ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import { buildSecretContent } from './secret-data.ts';
import { TemplateSourceWatch, trimConfigMapForCache } from './template-sources.ts';

interface Handlers<T> {
  onAdd?(o: T): void;
  onUpdate?(p: T, c: T): void;
  onDelete?(o: T): void;
}
class Events<T> {
  handlers: Handlers<T>[] = [];
  addHandlers(h: Handlers<T>): void {
    this.handlers.push(h);
  }
}

const resource = (name: string, configMaps: string[]): ThalassaSecret & KubeObject => ({
  apiVersion: 'secrets.thalassa.cloud/v1alpha1',
  kind: 'ThalassaSecret',
  metadata: { name, namespace: 'ns' },
  spec: {
    data: [{ key: 'k', path: '/k' }],
    target: { template: { templateFrom: configMaps.map((cm) => ({ configMap: { name: cm, items: [{ key: 'a' }] } })) } },
  },
});
const configMap = (name: string, resourceVersion: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion } });

describe('TemplateSourceWatch', () => {
  it('queues the resources that name a ConfigMap when it changes, and follows their specs', () => {
    const resources = new Events<ThalassaSecret & KubeObject>();
    const configMaps = new Events<KubeObject>();
    const queued: string[] = [];
    const watch = new TemplateSourceWatch(resources, configMaps, (key) => queued.push(key));
    const [r] = resources.handlers;
    const [c] = configMaps.handlers;
    r?.onAdd?.(resource('a', ['tpl']));
    r?.onAdd?.(resource('b', ['tpl', 'other']));
    expect(watch.namedBy('ns/tpl').sort()).toEqual(['ns/a', 'ns/b']);

    c?.onUpdate?.(configMap('tpl', '1'), configMap('tpl', '2'));
    expect(queued.sort()).toEqual(['ns/a', 'ns/b']);
    queued.length = 0;
    c?.onUpdate?.(configMap('tpl', '2'), configMap('tpl', '2')); // a resync: nothing changed
    c?.onAdd?.(configMap('unrelated', '1'));
    expect(queued).toEqual([]);

    r?.onUpdate?.(resource('b', ['tpl', 'other']), resource('b', ['other']));
    r?.onDelete?.(resource('a', ['tpl']));
    expect(watch.namedBy('ns/tpl')).toEqual([]);
    c?.onDelete?.(configMap('other', '3'));
    expect(queued).toEqual(['ns/b']);
  });

  it('caches a ConfigMap as its name and resourceVersion only', () => {
    const object = { metadata: { name: 'n', namespace: 'ns', resourceVersion: '5', labels: { a: 'b' }, annotations: { big: 'x'.repeat(1000) } } } as KubeObject;
    trimConfigMapForCache(object);
    expect(object.metadata).toEqual({ name: 'n', namespace: 'ns', resourceVersion: '5' });
  });
});

describe('templateFrom rendering', () => {
  it('renders ConfigMap templates into data, labels and annotations; template.data wins on the same key', () => {
    const content = buildSecretContent(
      { data: [{ key: 'pw', path: '/pw' }], target: { template: { data: { both: 'inline {{ .pw }}' } } } },
      { data: [{ path: '/pw', version: 1, value: { format: 'string', bytes: Buffer.from('x') } }], dataFrom: [] },
      [
        { key: 'conf', template: 'pw={{ .pw }}', target: 'Data', name: 'configMap c key conf' },
        { key: 'both', template: 'from cm', target: 'Data', name: 'configMap c key both' },
        { key: 'tier', template: 'gold', target: 'Labels', name: 'configMap c key tier' },
        { key: 'note', template: 'len={{ len .pw }}', target: 'Annotations', name: 'configMap c key note' },
      ],
    );
    expect(Object.fromEntries([...content.data].map(([k, v]) => [k, v.toString()]))).toEqual({ conf: 'pw=x', both: 'inline x' });
    expect(content.labels).toEqual({ tier: 'gold' });
    expect(content.annotations).toEqual({ note: 'len=1' });
  });
});

describe('docs/templates.md, Coming from ESO', () => {
  it('has an example spec the schema accepts', () => {
    const doc = readFileSync(new URL('../../docs/templates.md', import.meta.url), 'utf8');
    const match = /```yaml\n(spec:\n {2}dataFrom:[\s\S]*?)```/.exec(doc);
    expect(match, 'the example').not.toBeNull();
    const { spec } = parse(match?.[1] ?? '') as { spec: unknown };
    expect(thalassaSecretSpec.safeParse(spec).success).toBe(true);
  });
});
