import { ThalassaError } from './thalassa-error.ts';

/**
The server answered 2xx with a body that does not have the documented shape (or a value that is
not valid base64). The zod issues name fields only, never the values.
*/
export class InvalidResponseError extends ThalassaError {
  override name = 'InvalidResponseError';
  readonly operation: string;

  constructor(operation: string, problem: string, options?: ErrorOptions) {
    super(`${operation}: unexpected response from the server: ${problem}`, options);
    this.operation = operation;
  }
}
