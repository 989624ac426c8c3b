import { MinHeap } from './min-heap.ts';
import type { RateLimiter } from './rate-limiter.ts';

/**
`high` serves changes users made (a new or edited resource); `low` serves periodic refreshes,
retries and the start-up flood, so a new resource is never stuck behind thousands of refreshes
(the idea of controller-runtime's priority queue).
*/
export type Priority = 'high' | 'low';

export interface WorkQueueObserver {
  added?(priority: Priority): void;
  retried?(): void;
  /** Time between the key becoming ready and a worker taking it. */
  waited?(ms: number, priority: Priority): void;
  worked?(ms: number): void;
}

export interface WorkQueueOptions {
  readonly rateLimiter: RateLimiter;
  readonly observer?: WorkQueueObserver;
  readonly now?: () => number;
}

/** A FIFO with O(1) push and shift: an array with a moving head, compacted now and then. */
class Deque<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

interface Delayed {
  readonly key: string;
  readonly at: number;
  readonly priority: Priority;
}

/**
A work queue with client-go's guarantees: a key waiting is there once however often it is added
(dedup), a key is never handed to two workers at once, and a key added while it is processed is
processed again after `done`. Plus delayed adds (earliest wins), rate-limited re-adds, and two
priority lanes.
*/
export class WorkQueue {
  readonly #lanes = { high: new Deque<string>(), low: new Deque<string>() };
  /** Keys waiting to be processed, with their lane and the time they became ready. */
  readonly #dirty = new Map<string, { priority: Priority; since: number }>();
  readonly #processing = new Map<string, number>();
  readonly #delayed = new Map<string, Delayed>();
  readonly #heap = new MinHeap<Delayed>((entry) => entry.at);
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #waiters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;
  readonly #limiter: RateLimiter;
  readonly #observer: WorkQueueObserver;
  readonly #now: () => number;

  constructor(options: WorkQueueOptions) {
    this.#limiter = options.rateLimiter;
    this.#observer = options.observer ?? {};
    this.#now = options.now ?? Date.now;
  }

  /** Keys waiting to be processed (not those in progress or delayed); an upper bound while keys are re-added during processing. */
  get length(): number {
    return this.#dirty.size;
  }

  get delayedCount(): number {
    return this.#delayed.size;
  }

  get processingCount(): number {
    return this.#processing.size;
  }

  /** The longest time an in-progress key has been worked on, in ms. */
  longestRunningMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const started of this.#processing.values()) oldest = Math.min(oldest, started);
    return oldest === Number.POSITIVE_INFINITY ? 0 : this.#now() - oldest;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: string, priority: Priority = 'high'): void {
    if (this.#shuttingDown) return;
    this.#observer.added?.(priority);
    const dirty = this.#dirty.get(key);
    if (dirty) {
      // Already waiting: at most move it up to the high lane.
      if (priority === 'high' && dirty.priority === 'low') {
        dirty.priority = 'high';
        if (!this.#processing.has(key)) this.#enqueue(key, 'high');
      }
      return;
    }
    this.#dirty.set(key, { priority, since: this.#now() });
    if (this.#processing.has(key)) return; // done() re-queues it
    this.#enqueue(key, priority);
  }

  /** Adds `key` after `delayMs`. A key delayed twice keeps the earlier time. */
  addAfter(key: string, delayMs: number, priority: Priority = 'low'): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key, priority);
      return;
    }
    const at = this.#now() + delayMs;
    const current = this.#delayed.get(key);
    if (current && current.at <= at) return;
    const entry = { key, at, priority };
    this.#delayed.set(key, entry);
    this.#heap.push(entry);
    this.#armTimer();
  }

  /** Re-adds a failed key after its backoff. */
  addRateLimited(key: string): void {
    this.#observer.retried?.();
    this.addAfter(key, this.#limiter.when(key), 'low');
  }

  /** Ends the backoff of a key that succeeded. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /** Drops a pending delayed add, e.g. when the resource was deleted. */
  cancelDelayed(key: string): void {
    this.#delayed.delete(key);
  }

  /** The next key to process; undefined once the queue shuts down. */
  async get(): Promise<string | undefined> {
    const key = this.#take();
    if (key !== undefined || this.#shuttingDown) return key;
    return await new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    const started = this.#processing.get(key);
    if (started !== undefined) this.#observer.worked?.(this.#now() - started);
    this.#processing.delete(key);
    const dirty = this.#dirty.get(key);
    if (dirty && !this.#shuttingDown) this.#enqueue(key, dirty.priority);
  }

  shutDown(): void {
    this.#shuttingDown = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#delayed.clear();
    this.#heap.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  #enqueue(key: string, priority: Priority): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#start(key);
      waiter(key);
      return;
    }
    this.#lanes[priority].push(key);
  }

  #take(): string | undefined {
    for (const priority of ['high', 'low'] as const) {
      for (let key = this.#lanes[priority].shift(); key !== undefined; key = this.#lanes[priority].shift()) {
        const dirty = this.#dirty.get(key);
        // Skip stale entries: keys moved to the high lane, taken already, or being processed.
        if (dirty?.priority !== priority || this.#processing.has(key)) continue;
        this.#start(key);
        return key;
      }
    }
    return undefined;
  }

  #start(key: string): void {
    const dirty = this.#dirty.get(key);
    const now = this.#now();
    if (dirty) this.#observer.waited?.(now - dirty.since, dirty.priority);
    this.#dirty.delete(key);
    this.#processing.set(key, now);
  }

  #armTimer(): void {
    const next = this.#heap.peek();
    if (!next || next.at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = next.at;
    this.#timer = setTimeout(() => this.#fireDelayed(), Math.max(0, next.at - this.#now()));
    this.#timer.unref();
  }

  #fireDelayed(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#now();
    for (let next = this.#heap.peek(); next && next.at <= now; next = this.#heap.peek()) {
      this.#heap.pop();
      // Entries replaced by an earlier time (or cancelled) are stale.
      if (this.#delayed.get(next.key) !== next) continue;
      this.#delayed.delete(next.key);
      this.add(next.key, next.priority);
    }
    this.#armTimer();
  }
}
