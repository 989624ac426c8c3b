/** A bad argument to the in-process or admin API (seed, putSecret, ...); the admin endpoint answers 400. */
export class EmulatorInputError extends Error {
  override name = 'EmulatorInputError';
}
