import { ThalassaError } from './thalassa-error.ts';

export interface ApiErrorDetails {
  /** The client operation, e.g. `reveal` or `list`. */
  readonly operation: string;
  readonly status: number;
  /** The `message` of the server's error body, if it sent one. */
  readonly serverMessage: string | undefined;
  readonly path?: string | undefined;
}

/** The server answered with an error status. Subclasses name the class of error. */
export class ThalassaApiError extends ThalassaError {
  override name = 'ThalassaApiError';
  readonly operation: string;
  readonly status: number;
  readonly serverMessage: string | undefined;
  readonly path: string | undefined;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    const subject = details.path === undefined ? details.operation : `${details.operation} ${details.path}`;
    super(`${subject}: HTTP ${details.status}${details.serverMessage ? `: ${details.serverMessage}` : ''}`, options);
    this.operation = details.operation;
    this.status = details.status;
    this.serverMessage = details.serverMessage;
    this.path = details.path;
  }
}
