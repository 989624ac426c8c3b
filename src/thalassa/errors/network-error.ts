import { ThalassaError } from './thalassa-error.ts';

/**
No answer: the connection failed, was dropped, or the request timed out. Only the socket error
code is kept (ECONNREFUSED, ECONNRESET...): the underlying fetch error holds the request, with its
Authorization header, and must not travel into logs as a `cause`.
*/
export class NetworkError extends ThalassaError {
  override name = 'NetworkError';
  readonly operation: string;
  readonly timedOut: boolean;
  readonly code: string | undefined;

  constructor(operation: string, details: { readonly timedOut: boolean; readonly code?: string | undefined }) {
    const detail = details.timedOut
      ? 'timed out'
      : details.code && isCertificateProblem(details.code)
        ? `connection failed (${details.code}): the server's TLS certificate is not trusted; the store's caBundle must hold the CA that signed it`
        : `connection failed${details.code ? ` (${details.code})` : ''}`;
    super(`${operation}: ${detail}`);
    this.operation = operation;
    this.timedOut = details.timedOut;
    this.code = details.code;
  }

  override get retryable(): boolean {
    return true;
  }
}

/**
OpenSSL's certificate verification failures as Node names them (UNABLE_TO_VERIFY_LEAF_SIGNATURE,
SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED...), and Node's own host name mismatch. Without them
an untrusted server would only say "connection failed", which sends people looking at the network.
*/
const certificateCode = /^(UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|INVALID_CA$|HOSTNAME_MISMATCH$|ERR_TLS_CERT_ALTNAME_INVALID$)/;

export function isCertificateProblem(code: string): boolean {
  return certificateCode.test(code);
}

/** The first `code` found along an error's `cause` chain, e.g. ECONNREFUSED from undici's socket. */
export function socketErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) return code;
    if (typeof code === 'string' && code.startsWith('UND_ERR')) return code;
    if (typeof code === 'string' && isCertificateProblem(code)) return code;
  }
  return undefined;
}
