import { ThalassaError } from './thalassa-error.ts';

/** What a request was about: one secret (its path in the URL), a collection (list, browse, create), or the token endpoint. */
export type ApiEndpoint = 'secret' | 'collection' | 'token';

export interface ApiErrorDetails {
  /** The client operation, e.g. `reveal` or `list`. */
  readonly operation: string;
  readonly status: number;
  /** The `message` of the server's error body, if it sent one. */
  readonly serverMessage: string | undefined;
  /**
  A machine-readable `code` (or `reason`, `errorCode`) of the error body, if the server sent one.
  None is documented; when one comes, it decides an error's kind before the message does.
  */
  readonly serverCode?: string | undefined;
  readonly path?: string | undefined;
  /** Default: `secret` when there is a `path`, `collection` otherwise. */
  readonly endpoint?: ApiEndpoint | undefined;
  /**
  What the request itself carried and a user chose (region, organisation, project, path, KMS key):
  removed from the message and code before their words may decide a kind.
  */
  readonly requestValues?: readonly string[] | undefined;
}

/** The server answered with an error status. Subclasses name the class of error. */
export class ThalassaApiError extends ThalassaError {
  override name = 'ThalassaApiError';
  readonly operation: string;
  readonly status: number;
  readonly serverMessage: string | undefined;
  readonly serverCode: string | undefined;
  readonly path: string | undefined;
  readonly endpoint: ApiEndpoint;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    const subject = details.path === undefined ? details.operation : `${details.operation} ${details.path}`;
    super(`${subject}: HTTP ${details.status}${details.serverMessage ? `: ${details.serverMessage}` : ''}`, options);
    this.operation = details.operation;
    this.status = details.status;
    this.serverMessage = details.serverMessage;
    this.serverCode = details.serverCode;
    this.path = details.path;
    this.endpoint = details.endpoint ?? (details.path === undefined ? 'collection' : 'secret');
  }
}

/**
The kind that the first of `texts` (the code, then the message, each made classifiable) with a
verdict gives, or `fallback`.
*/
export function firstKind<K>(texts: readonly string[], decide: (text: string) => K | undefined, fallback: K): K {
  for (const text of texts) {
    if (text === '') continue;
    const kind = decide(text);
    if (kind !== undefined) return kind;
  }
  return fallback;
}
