import { ThalassaError } from './thalassa-error.ts';

/** A secret path that breaks Thalassa's path rules, caught before any request is sent. */
export class InvalidPathError extends ThalassaError {
  override name = 'InvalidPathError';
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`invalid secret path "${path.length > 80 ? `${path.slice(0, 80)}...` : path}": ${problem}`);
    this.path = path;
  }
}
