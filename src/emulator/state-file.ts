/**
Writes the state file after changes: debounced, one write at a time, atomically (temporary file, then
rename) so a crash never leaves half a file behind.
*/
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

/** The shortest wait between a change and its write. */
export const persistDebounceMs = 100;
/**
Serializing a large state blocks the event loop, so the wait grows with the last write's duration:
at most a fifth of the time goes to persistence, however big the state is.
*/
const writeCostFactor = 4;

export async function readStateFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export class StateFileWriter {
  readonly #file: string;
  readonly #serialize: () => string;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  /** Changes seen and changes written; they differ while something is still to be written. */
  #changes = 0;
  #written = 0;
  #lastError: Error | undefined;
  #lastWriteMs = 0;

  constructor(file: string, serialize: () => string) {
    this.#file = file;
    this.#serialize = serialize;
  }

  markDirty(): void {
    this.#changes += 1;
    this.#schedule();
  }

  /** Writes pending changes now; rejects with the error of a failed write since the last flush. */
  async flush(): Promise<void> {
    this.#cancelTimer();
    await this.#writing;
    this.#cancelTimer();
    if (this.#changes !== this.#written) await this.#writeNow();
    const error = this.#lastError;
    this.#lastError = undefined;
    if (error !== undefined) throw error;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#writing !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#writeNow();
    }, Math.max(persistDebounceMs, this.#lastWriteMs * writeCostFactor));
    this.#timer.unref();
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #writeNow(): Promise<void> {
    const target = this.#changes;
    const started = performance.now();
    const text = this.#serialize();
    const temporary = `${this.#file}.${randomBytes(4).toString('hex')}.tmp`;
    this.#writing = (async () => {
      try {
        await writeFile(temporary, text);
        await rename(temporary, this.#file);
      } catch (error) {
        this.#lastError = error instanceof Error ? error : new Error(String(error));
        await rm(temporary, { force: true });
      }
    })();
    await this.#writing;
    this.#lastWriteMs = performance.now() - started;
    this.#writing = undefined;
    this.#written = target;
    if (this.#changes !== this.#written) this.#schedule();
  }
}
