/** Requests per operation and status, exact, for API-efficiency tests and benchmarks. */
import { operations, type CountedOperation } from './operations.ts';

/** A status code as a string (`'200'`), or `'dropped'` for a connection destroyed by a drop fault. */
export type CountedStatus = string;

export interface CounterSnapshot {
  readonly total: number;
  /** Every operation is present, with `{}` when it saw no request. */
  readonly byOperation: Readonly<Record<CountedOperation, Readonly<Record<CountedStatus, number>>>>;
}

function emptyCounts(): Record<CountedOperation, Record<CountedStatus, number>> {
  const counts = { unrouted: {} } as Record<CountedOperation, Record<CountedStatus, number>>;
  for (const operation of operations) counts[operation] = {};
  return counts;
}

export class Counters {
  #total = 0;
  #counts = emptyCounts();

  record(operation: CountedOperation, status: number | 'dropped'): void {
    const byStatus = this.#counts[operation];
    const key = String(status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    this.#total += 1;
  }

  snapshot(): CounterSnapshot {
    const byOperation = emptyCounts();
    for (const [operation, byStatus] of Object.entries(this.#counts)) {
      byOperation[operation as CountedOperation] = { ...byStatus };
    }
    return { total: this.#total, byOperation };
  }

  reset(): void {
    this.#total = 0;
    this.#counts = emptyCounts();
  }
}
