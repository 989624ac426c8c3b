/** A binary min-heap ordered by a numeric priority; used for the work queue's delayed adds. */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #priority: (item: T) => number;

  constructor(priority: (item: T) => number) {
    this.#priority = priority;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#before(parent, i)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && this.#before(left, smallest)) smallest = left;
      if (right < items.length && this.#before(right, smallest)) smallest = right;
      if (smallest === i) return top;
      this.#swap(i, smallest);
      i = smallest;
    }
  }

  clear(): void {
    this.#items.length = 0;
  }

  #before(a: number, b: number): boolean {
    const items = this.#items as readonly T[];
    return this.#priority(items[a] as T) <= this.#priority(items[b] as T);
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    [items[a], items[b]] = [items[b] as T, items[a] as T];
  }
}
