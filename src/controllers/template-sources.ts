/**
`target.template.templateFrom`: templates kept in ConfigMaps of the resource's namespace.

Reading: the reconciler reads each ConfigMap it names (GET, full object) at every reconcile of such
a resource, before it decides whether the Secret is current: the ConfigMaps' content is part of the
shape hash, so an edit rewrites the Secret from cached values, without a reveal.

Watching: a metadata-only watch of the ConfigMaps of the watched namespaces (no data in the cache,
see docs/design.md), and an index from each ConfigMap to the resources that name it: an event on a
ConfigMap nobody names costs a map lookup.
*/
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { isNotFound } from '../kube/errors.ts';
import { objectKey } from '../kube/informer.ts';
import type { KubeClient } from '../kube/kube-client.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import { readFailure } from './kube-failure.ts';
import type { TemplateSource } from './secret-data.ts';
import { reasons, SyncError } from './sync-error.ts';

export const configMapPath = (namespace: string, name: string): string => `/api/v1/namespaces/${namespace}/configmaps/${name}`;

/** The ConfigMaps a resource's templateFrom names, by name. */
export function templateConfigMaps(resource: ThalassaSecret): string[] {
  return [...new Set((resource.spec.target?.template?.templateFrom ?? []).map((entry) => entry.configMap.name))];
}

export interface ReadTemplateSources {
  readonly sources: TemplateSource[];
  /** What goes into the shape hash: each ConfigMap's templates, undefined without templateFrom. */
  readonly fingerprint: Record<string, string> | undefined;
}

/** Reads the templates of `resource`'s templateFrom: TemplateSourceNotFound for a missing ConfigMap or key. */
export async function readTemplateSources(kube: KubeClient, resource: ThalassaSecret, signal?: AbortSignal): Promise<ReadTemplateSources> {
  const entries = resource.spec.target?.template?.templateFrom ?? [];
  if (entries.length === 0) return { sources: [], fingerprint: undefined };
  const namespace = resource.metadata.namespace ?? '';
  const configMaps = new Map<string, V1ConfigMap>();
  for (const name of templateConfigMaps(resource)) {
    const configMap = await kube.get<V1ConfigMap>(configMapPath(namespace, name), signal ? { signal } : {}).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw readFailure(error, `ConfigMap ${name}`);
    });
    if (!configMap) {
      throw new SyncError(reasons.TemplateSourceNotFound, `target.template.templateFrom: ConfigMap ${name} does not exist in namespace ${namespace}`);
    }
    configMaps.set(name, configMap);
  }
  const sources: TemplateSource[] = [];
  const fingerprint: Record<string, string> = {};
  entries.forEach((entry, i) => {
    const { name, items } = entry.configMap;
    const data = configMaps.get(name)?.data ?? {};
    for (const item of items) {
      const template = data[item.key];
      if (template === undefined) {
        throw new SyncError(
          reasons.TemplateSourceNotFound,
          `target.template.templateFrom[${i}]: ConfigMap ${name} has no key "${item.key}" in its data`,
        );
      }
      sources.push({ key: item.key, template, target: entry.target ?? 'Data', name: `configMap ${name} key ${item.key}` });
      fingerprint[`${i}/${name}/${item.key}`] = template;
    }
  });
  return { sources, fingerprint };
}

/** A cached ConfigMap is its name and resourceVersion: the watch only says which one changed. */
export function trimConfigMapForCache(object: KubeObject): void {
  const { name, namespace, uid, resourceVersion } = object.metadata;
  object.metadata = { name, ...(namespace === undefined ? {} : { namespace }), ...(uid === undefined ? {} : { uid }), ...(resourceVersion === undefined ? {} : { resourceVersion }) };
}

interface ResourceEvents<T> {
  addHandlers(handlers: { onAdd?(object: T): void; onUpdate?(previous: T, current: T): void; onDelete?(object: T): void }): void;
}

/**
Re-queues the resources that name a ConfigMap when it changes (or appears, or goes): an edit
re-renders their Secrets.
*/
export class TemplateSourceWatch {
  /** `namespace/configmap` to the keys of the resources that name it. */
  readonly #index = new Map<string, Set<string>>();
  /** Resource key to the ConfigMap keys it names. */
  readonly #names = new Map<string, string[]>();

  constructor(resources: ResourceEvents<ThalassaSecret & KubeObject>, configMaps: ResourceEvents<KubeObject>, onChange: (resourceKey: string) => void) {
    const track = (resource: ThalassaSecret & KubeObject) => this.#track(objectKey(resource), resource);
    resources.addHandlers({
      onAdd: track,
      onUpdate: (_previous, current) => track(current),
      onDelete: (resource) => this.#track(objectKey(resource), undefined),
    });
    const changed = (configMap: KubeObject) => {
      for (const key of this.#index.get(objectKey(configMap)) ?? []) onChange(key);
    };
    configMaps.addHandlers({
      onAdd: changed,
      onUpdate: (previous, current) => {
        if (previous.metadata.resourceVersion !== current.metadata.resourceVersion) changed(current);
      },
      onDelete: changed,
    });
  }

  /** The resources that name `namespace/name`, for tests. */
  namedBy(configMapKey: string): string[] {
    return [...(this.#index.get(configMapKey) ?? [])];
  }

  #track(key: string, resource: ThalassaSecret | undefined): void {
    for (const name of this.#names.get(key) ?? []) {
      const users = this.#index.get(name);
      users?.delete(key);
      if (users?.size === 0) this.#index.delete(name);
    }
    const names = resource ? templateConfigMaps(resource).map((name) => `${resource.metadata.namespace ?? ''}/${name}`) : [];
    if (names.length === 0) {
      this.#names.delete(key);
      return;
    }
    this.#names.set(key, names);
    for (const name of names) {
      let users = this.#index.get(name);
      if (!users) this.#index.set(name, (users = new Set()));
      users.add(key);
    }
  }
}
