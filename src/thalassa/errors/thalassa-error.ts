/**
The base of every error the Thalassa client throws. Messages name the operation, the secret path
and what the server said; never a value, a token or a request header.
*/
export class ThalassaError extends Error {
  override name = 'ThalassaError';
  /** Whether the same request may succeed later (outages, rate limits, network faults). */
  get retryable(): boolean {
    return false;
  }

  get isThalassaError(): true {
    return true;
  }
}

export function isThalassaError(error: unknown): error is ThalassaError {
  return error instanceof ThalassaError;
}
