import { classifiableText, codeText, missingSubject } from './message-text.ts';
import { firstKind, ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

/**
What a 404 says is missing.

- `secret`: the secret or one of its versions (or it lives in another project scope, which
  Thalassa does not tell apart). Only this kind may count as "the secret is gone", and so lead to
  a deletion under `deletionPolicy: Delete`.
- `region`, `project`: the scope the store names does not exist at all: a mistake in the store.
- `kmsKey`: the KMS key (of a create, or the one a secret is bound to) does not exist.
- `unknown`: the answer does not say, or says something else (`404 page not found` from a proxy or
  a wrong `apiURL`, `no endpoint at ...`, `record not found`, a body that is not JSON). Never read
  as a deleted secret.
*/
export type NotFoundKind = 'secret' | 'region' | 'project' | 'kmsKey' | 'unknown';

/**
The kind a text (a code or a message, made classifiable) names as missing; undefined when it
names nothing or nothing this client knows (`page`, `endpoint`, `record`). The safe reading wins
when a subject names more than one thing ("kms key of secret"): a scope or a key before a secret.
*/
function missingKind(text: string): NotFoundKind | undefined {
  const subject = missingSubject(text);
  if (subject === undefined) return undefined;
  if (/\bregions?\b/.test(subject)) return 'region';
  if (/\b(projects?|organi[sz]ations?|orgs?|tenants?|scopes?)\b/.test(subject)) return 'project';
  if (/\b(kms|keys?)\b/.test(subject)) return 'kmsKey';
  if (/\b(secrets?|versions?)\b/.test(subject)) return 'secret';
  return undefined;
}

/** 404: see `NotFoundKind`. */
export class NotFoundError extends ThalassaApiError {
  override name = 'NotFoundError';
  readonly kind: NotFoundKind;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    const values = details.requestValues ?? [];
    const kind = firstKind([codeText(details.serverCode, values), classifiableText(details.serverMessage, values)], missingKind, 'unknown');
    // A list, a browse or a create cannot find a secret gone: a 404 there is about the scope,
    // the key or the endpoint, whatever it says.
    this.kind = kind === 'secret' && this.endpoint !== 'secret' ? 'unknown' : kind;
  }
}
