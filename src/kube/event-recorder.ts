import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.ts';
import { contentTypes, paths, type KubeClient } from './kube-client.ts';

export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string | undefined; readonly uid?: string | undefined };
}

interface Recorded {
  readonly name: string;
  readonly namespace: string;
  count: number;
  readonly firstTimestamp: Date;
  lastTimestamp: Date;
}

/** Repeats of one event within this window raise its count instead of creating another Event. */
const aggregationWindowMs = 10 * 60_000;
const maxTracked = 4096;

/**
Kubernetes Events (core/v1) for a resource, aggregated like kubectl shows them: the same reason
and message on the same object within ten minutes bumps the count of one Event. Recording never
fails a reconcile; a failed write is only logged. Messages must not carry values.
*/
export class EventRecorder {
  readonly #client: KubeClient;
  readonly #component: string;
  readonly #logger: Logger;
  readonly #recent = new Map<string, Recorded>();

  constructor(client: KubeClient, component: string, logger: Logger) {
    this.#client = client;
    this.#component = component;
    this.#logger = logger;
  }

  record(subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.#write(subject, type, reason, message).catch((error: unknown) => {
      this.#logger.warn({ err: error, reason, object: `${subject.kind}/${subject.metadata.name}` }, 'could not record event');
    });
  }

  async #write(subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = subject.metadata.namespace ?? 'default';
    const key = `${subject.metadata.uid ?? `${namespace}/${subject.kind}/${subject.metadata.name}`}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = new Date();
    const previous = this.#recent.get(key);
    if (previous && now.getTime() - previous.lastTimestamp.getTime() < aggregationWindowMs) {
      previous.count++;
      previous.lastTimestamp = now;
      await this.#client.patch(paths.event(previous.namespace, previous.name), { count: previous.count, lastTimestamp: now.toISOString() }, contentTypes.mergePatch);
      return;
    }
    const name = `${subject.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    await this.#client.create(paths.events(namespace), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        name: subject.metadata.name,
        namespace,
        ...(subject.metadata.uid ? { uid: subject.metadata.uid } : {}),
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.#component },
      reportingComponent: this.#component,
      firstTimestamp: now.toISOString(),
      lastTimestamp: now.toISOString(),
      count: 1,
    });
    this.#recent.delete(key);
    this.#recent.set(key, { name, namespace, count: 1, firstTimestamp: now, lastTimestamp: now });
    if (this.#recent.size > maxTracked) {
      const oldest = this.#recent.keys().next();
      if (!oldest.done) this.#recent.delete(oldest.value);
    }
  }
}
