import { readFileSync } from 'node:fs';

/** The p-th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  return memoryOf(pid).rss;
}

/**
A process's resident memory in bytes, from /proc (Linux): all of it, and the part that is its own
(anonymous: heap, buffers, stacks) as opposed to file pages (the mapped Node binary and libraries),
which the kernel can drop and read back under memory pressure.
*/
export function memoryOf(pid: number): { rss: number; anon: number; file: number } {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // gone
  }
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') };
}

/** CPU time (user + system) a process has used, in seconds, from /proc (Linux; 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `intervalMs` and keeps the peak. */
export class PeakRss {
  #peak = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 200) {
    this.#timer = setInterval(() => {
      this.#peak = Math.max(this.#peak, rssBytes(pid));
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): number {
    clearInterval(this.#timer);
    return this.#peak;
  }
}

export async function runLimited<T>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        const item = items[i];
        if (item !== undefined) await run(item, i);
      }
    }),
  );
}

export const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
