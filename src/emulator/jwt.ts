/** Just enough JWT (JWS compact, RS256 and ES256) to verify token-exchange subject tokens and mint them in tests. */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';

export type JwtAlgorithm = 'RS256' | 'ES256';

export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly signingInput: string;
  readonly signature: Buffer;
}

function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The parts of a compact JWS, or undefined when it is not one. The signature is not checked here. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const segments = token.split('.');
  if (segments.length !== 3 || segments.some((segment) => !/^[A-Za-z0-9_-]*$/.test(segment))) return undefined;
  const [headerSegment = '', claimsSegment = '', signatureSegment = ''] = segments;
  const header = decodeJsonSegment(headerSegment);
  const claims = decodeJsonSegment(claimsSegment);
  if (header === undefined || claims === undefined) return undefined;
  return {
    header,
    claims,
    signingInput: `${headerSegment}.${claimsSegment}`,
    signature: Buffer.from(signatureSegment, 'base64url'),
  };
}

/** RS256 or ES256 (the algorithm the key allows), never `none`. */
export function verifyJwtSignature(jwt: DecodedJwt, publicKeyPem: string): boolean {
  const algorithm = jwt.header['alg'];
  try {
    const key = createPublicKey(publicKeyPem);
    const data = Buffer.from(jwt.signingInput);
    if (algorithm === 'RS256' && key.asymmetricKeyType === 'rsa') {
      return verify('sha256', data, key, jwt.signature);
    }
    if (algorithm === 'ES256' && key.asymmetricKeyType === 'ec') {
      return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
    }
    return false;
  } catch {
    return false;
  }
}

/** Mints a signed JWT, e.g. a projected service-account token for token-exchange tests. */
export function signJwt(
  claims: Readonly<Record<string, unknown>>,
  privateKeyPem: string,
  algorithm: JwtAlgorithm = 'RS256',
  keyId?: string,
): string {
  const header = { alg: algorithm, typ: 'JWT', ...(keyId === undefined ? {} : { kid: keyId }) };
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode(header)}.${encode(claims)}`;
  const key = createPrivateKey(privateKeyPem);
  const signature =
    algorithm === 'RS256'
      ? sign('sha256', Buffer.from(signingInput), key)
      : sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}
