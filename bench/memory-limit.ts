/**
The operator under the chart's default memory limit, as a user's pod runs it. Node 24 sizes V8 from
the cgroup it runs in (old space about half the limit, semi spaces of 1 MiB under 512 MiB), so an
operator measured without a limit is sized for the whole machine and measures a configuration no
chart user has. The bench therefore puts the operator in a memory cgroup of its own with the
limit from charts/…/values.yaml, and nothing else: no V8 flag, no malloc setting.
*/
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const chartValues = join(import.meta.dirname, '..', 'charts', 'thalassa-secrets-operator', 'values.yaml');
const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 };

/** A Kubernetes quantity of bytes (`512Mi`, `1G`, `268435456`) in bytes. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(quantity.trim());
  if (!match?.[1]) throw new Error(`not a byte quantity: ${quantity}`);
  return Math.round(Number(match[1]) * (match[2] ? (units[match[2]] ?? 1) : 1));
}

/** `resources.limits.memory` of the chart's default values, in bytes. */
export function chartMemoryLimit(): { quantity: string; bytes: number } {
  const values = parse(readFileSync(chartValues, 'utf8')) as { resources?: { limits?: { memory?: string } } };
  const quantity = values.resources?.limits?.memory;
  if (!quantity) throw new Error(`${chartValues} sets no resources.limits.memory`);
  return { quantity, bytes: quantityBytes(quantity) };
}

/** The files of one memory cgroup, v1 or v2. */
interface CgroupFiles {
  readonly limit: string;
  readonly peak: string;
}

const v1: CgroupFiles = { limit: 'memory.limit_in_bytes', peak: 'memory.max_usage_in_bytes' };
const v2: CgroupFiles = { limit: 'memory.max', peak: 'memory.peak' };

/** Where this process's own memory cgroup is, and which version, or why there is none to use. */
function ownCgroup(): { dir: string; files: CgroupFiles } | { unavailable: string } {
  let membership: string;
  try {
    membership = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return { unavailable: 'no /proc/self/cgroup (not Linux)' };
  }
  const lines = membership.trim().split('\n').map((line) => line.split(':'));
  const memoryV1 = lines.find((fields) => fields[1]?.split(',').includes('memory'));
  if (memoryV1?.[2] !== undefined && existsSync('/sys/fs/cgroup/memory')) return { dir: join('/sys/fs/cgroup/memory', memoryV1[2]), files: v1 };
  const unified = lines.find((fields) => fields[0] === '0' && fields[1] === '');
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const dir = join(root, unified?.[2] ?? '/');
    const controls = join(dir, 'cgroup.subtree_control');
    if (unified && existsSync(controls) && readFileSync(controls, 'utf8').split(/\s+/).includes('memory')) return { dir, files: v2 };
  }
  return { unavailable: 'no memory cgroup this process may delegate to' };
}

/** A memory cgroup made for one operator process; the process joins it as it starts. */
export class MemoryCgroup {
  readonly limitBytes: number;
  readonly #dir: string;
  readonly #files: CgroupFiles;

  private constructor(dir: string, files: CgroupFiles, limitBytes: number) {
    this.#dir = dir;
    this.#files = files;
    this.limitBytes = limitBytes;
  }

  /** A new cgroup limited to `limitBytes`, or why one cannot be made here (not root, no memory controller). */
  static create(name: string, limitBytes: number): MemoryCgroup | { unavailable: string } {
    const own = ownCgroup();
    if ('unavailable' in own) return own;
    const dir = join(own.dir, name);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, own.files.limit), String(limitBytes));
    } catch (error) {
      return { unavailable: `cannot make a memory cgroup under ${own.dir}: ${(error as Error).message}` };
    }
    return new MemoryCgroup(dir, own.files, limitBytes);
  }

  /** `command` run inside this cgroup: a shell joins it, then execs the command (same pid, so /proc figures are the command's). */
  wrap(command: readonly string[]): string[] {
    return ['/bin/sh', '-c', `echo $$ > '${join(this.#dir, 'cgroup.procs')}' && exec "$@"`, 'sh', ...command];
  }

  /** The cgroup's peak memory use in bytes (RSS and page cache of everything that ran in it). */
  peakBytes(): number {
    try {
      return Number(readFileSync(join(this.#dir, this.#files.peak), 'utf8').trim());
    } catch {
      return 0;
    }
  }

  /** Removes the cgroup; it must be empty (the operator stopped). */
  remove(): void {
    try {
      rmdirSync(this.#dir);
    } catch {
      // Still in use (a process that did not exit) or already gone: left for the system.
    }
  }
}
