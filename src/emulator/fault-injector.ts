/**
Decides, per API request, which configured fault hits it. Random draws come from one seeded PRNG and
are only taken for faults that are configured, so a given seed and request sequence repeat exactly.
*/
import { ApiError, type ApiResponse } from './api-response.ts';
import type { FaultConfig, OutageMode } from './fault-schema.ts';
import type { CountedOperation, Operation } from './operations.ts';
import { TokenBuckets } from './token-bucket.ts';

function targets(operations: readonly Operation[] | undefined, operation: CountedOperation): boolean {
  return operations === undefined || (operation !== 'unrouted' && operations.includes(operation));
}

export class FaultInjector {
  #config: FaultConfig = {};
  #buckets: TokenBuckets | undefined;
  readonly #random: () => number;
  readonly #monotonicClock: () => number;

  constructor(config: FaultConfig, random: () => number, monotonicClock: () => number) {
    this.#random = random;
    this.#monotonicClock = monotonicClock;
    this.configure(config);
  }

  get config(): FaultConfig {
    return structuredClone(this.#config);
  }

  get outage(): OutageMode {
    return this.#config.outage ?? 'none';
  }

  /** Replaces the whole configuration; rate-limit buckets start full again. */
  configure(config: FaultConfig): void {
    this.#config = structuredClone(config);
    const limit = config.rateLimit;
    this.#buckets =
      limit === undefined ? undefined : new TokenBuckets(limit.requestsPerSecond, limit.burst, this.#monotonicClock);
  }

  #hits(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && this.#random() < rate;
  }

  unavailable(): ApiResponse | undefined {
    return this.outage === 'unavailable'
      ? { status: 503, body: { message: 'service unavailable (emulated outage)' } }
      : undefined;
  }

  drop(): boolean {
    return this.#hits(this.#config.dropRate);
  }

  latencyMs(operation: CountedOperation): number {
    const latency = this.#config.latency;
    if (latency === undefined || !targets(latency.operations, operation)) return 0;
    const min = latency.minMs ?? 0;
    const max = latency.maxMs ?? min;
    const jitter = max > min ? min + this.#random() * (max - min) : min;
    return (latency.fixedMs ?? 0) + jitter;
  }

  injectedError(operation: CountedOperation): ApiResponse | undefined {
    for (const fault of this.#config.errors ?? []) {
      if (!targets(fault.operations, operation) || !this.#hits(fault.rate)) continue;
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      return new ApiError(fault.status, fault.message ?? `injected fault: ${fault.status}`, { headers }).toResponse();
    }
    return undefined;
  }

  rateLimited(organisationKey: string): ApiResponse | undefined {
    const decision = this.#buckets?.take(organisationKey);
    if (decision === undefined || decision.allowed) return undefined;
    const retryAfter = this.#config.rateLimit?.retryAfterSeconds ?? decision.retryAfterSeconds;
    return new ApiError(429, 'rate limit exceeded', { headers: { 'retry-after': String(retryAfter) } }).toResponse();
  }

  dropMidResponse(): boolean {
    return this.#hits(this.#config.dropMidResponseRate);
  }
}
