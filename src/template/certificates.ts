/**
ESO's certificate helpers (pkg/template/v2: pem.go, pem_chain.go, pkcs12.go, jwk.go) on Node's
crypto (keys, JWK, X.509) and node-forge (PKCS#12: PBES1/PBES2 decryption, MAC, ASN.1). Go's
encoding/pem is ported as it is (text, not ASN.1), because filterPEM must keep every byte and every
header as Go does.

Values are binary strings (bytes); outputs are binary strings too. Error messages are fixed texts:
no library message (which might quote input) is passed on.
*/
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import type * as Forge from 'node-forge';
import { lazy, lazyModule } from './lazy-module.ts';
import { toBytes, toText } from './bytes.ts';
import { base64Decode, base64Encode } from './encoding.ts';
import { FuncError } from './errors.ts';

/** Loaded at the first certificate or PKCS#12 function a template calls (src/template/lazy-module.ts). */
const forge = lazyModule('node-forge') as typeof Forge;

// ---- encoding/pem ----

export interface PemBlock {
  readonly type: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly bytes: string;
}

const pemStart = '\n-----BEGIN ';
const pemEnd = '\n-----END ';
const pemEndOfLine = '-----';

function trimRightSpaceTab(s: string): string {
  return s.replace(/[ \t]+$/, '');
}

function getLine(data: string): [line: string, rest: string, consumed: number] {
  let i = data.indexOf('\n');
  let j: number;
  if (i < 0) {
    i = data.length;
    j = i;
  } else {
    j = i + 1;
    if (i > 0 && data[i - 1] === '\r') i--;
  }
  return [trimRightSpaceTab(data.slice(0, i)), data.slice(j), j];
}

function goTrimSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r \x85\xa0]+|[\t\n\v\f\r \x85\xa0]+$/g, '');
}

/** encoding/pem.Decode (Go 1.26): the first block and the rest, or no block and the data unchanged. */
export function pemDecode(data: string): [block: PemBlock | undefined, rest: string] {
  let rest = data;
  let endTrailerIndex = 0;
  for (;;) {
    if (endTrailerIndex < 0 || endTrailerIndex > rest.length) return [undefined, data];
    rest = rest.slice(endTrailerIndex);
    let endIndex = rest.indexOf(pemEnd);
    if (endIndex < 0) return [undefined, data];
    endTrailerIndex = endIndex + pemEnd.length;
    const beginIndex = rest.slice(0, endIndex).lastIndexOf(pemStart.slice(1));
    if (beginIndex < 0 || (beginIndex > 0 && rest[beginIndex - 1] !== '\n')) continue;
    rest = rest.slice(beginIndex + pemStart.length - 1);
    endIndex -= beginIndex + pemStart.length - 1;
    endTrailerIndex -= beginIndex + pemStart.length - 1;

    let typeLine: string;
    let consumed: number;
    [typeLine, rest, consumed] = getLine(rest);
    endIndex -= consumed;
    endTrailerIndex -= consumed;
    if (!typeLine.endsWith(pemEndOfLine)) continue;
    typeLine = typeLine.slice(0, typeLine.length - pemEndOfLine.length);

    const headers = new Map<string, string>();
    let truncated = false;
    for (;;) {
      if (rest.length === 0) {
        truncated = true;
        break;
      }
      const [line, next, used] = getLine(rest);
      const colon = line.indexOf(':');
      if (colon < 0) break;
      headers.set(goTrimSpace(line.slice(0, colon)), goTrimSpace(line.slice(colon + 1)));
      rest = next;
      endIndex -= used;
      endTrailerIndex -= used;
    }
    if (truncated) return [undefined, data];
    if (headers.size > 0 && endIndex < 0) continue;

    let endTrailer = rest.slice(endTrailerIndex);
    const endTrailerLen = typeLine.length + pemEndOfLine.length;
    if (endTrailer.length < endTrailerLen) continue;
    const restOfEndLine = endTrailer.slice(endTrailerLen);
    endTrailer = endTrailer.slice(0, endTrailerLen);
    if (!endTrailer.startsWith(typeLine) || !endTrailer.endsWith(pemEndOfLine)) continue;
    if (getLine(restOfEndLine)[0].length !== 0) continue;

    let bytes = '';
    if (endIndex > 0) {
      try {
        bytes = base64Decode(rest.slice(0, endIndex).replace(/[ \t]/g, ''));
      } catch {
        continue;
      }
    }
    [, rest] = getLine(rest.slice(endIndex + pemEnd.length - 1));
    return [{ type: typeLine, headers, bytes }, rest];
  }
}

/** encoding/pem.Encode. */
export function pemEncode(block: PemBlock): string {
  for (const key of block.headers.keys()) if (key.includes(':')) throw new FuncError('pem: cannot encode a header key that contains a colon');
  let out = `-----BEGIN ${block.type}-----\n`;
  if (block.headers.size > 0) {
    const keys = [...block.headers.keys()].filter((k) => k !== 'Proc-Type').sort();
    if (block.headers.has('Proc-Type')) keys.unshift('Proc-Type');
    for (const k of keys) out += `${k}: ${block.headers.get(k) ?? ''}\n`;
    out += '\n';
  }
  const b64 = base64Encode(block.bytes);
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${block.type}-----\n`;
}

function pem(type: string, der: string): string {
  return pemEncode({ type, headers: new Map(), bytes: der });
}

/** Go's strings.EqualFold for the ASCII block types PEM uses (and simple Unicode folding beyond). */
function equalFold(a: string, b: string): boolean {
  const ta = toText(a);
  const tb = toText(b);
  if (ta === undefined || tb === undefined) return a === b;
  return ta.toLowerCase() === tb.toLowerCase() || ta.toUpperCase() === tb.toUpperCase();
}

/** ESO's filterPEM: every block of the type, re-encoded; "found junk" when none and text is left. */
export function filterPEM(pemType: string, input: string): string {
  let data = input;
  let blocks = '';
  let rest: string;
  for (;;) {
    const [block, after] = pemDecode(data);
    rest = after;
    data = after;
    if (!block) break;
    if (!equalFold(block.type, pemType)) continue;
    blocks += pemEncode(block);
  }
  if (blocks.length === 0 && rest.length !== 0) throw new FuncError('error filtering pem: found junk');
  return blocks;
}

// ---- certificates and chains ----

/** forge's fromDer takes options (its type declarations only know the older boolean form). */
const fromDer = (bytes: string, options: { strict: boolean; parseAllBytes?: boolean; decodeBitStrings?: boolean }): Forge.asn1.Asn1 =>
  (forge.asn1.fromDer as unknown as (bytes: string, options: { strict: boolean; parseAllBytes?: boolean; decodeBitStrings?: boolean }) => Forge.asn1.Asn1)(bytes, options);

interface Certificate {
  readonly raw: string;
  readonly subjectKeyId: string | undefined;
  readonly authorityKeyId: string | undefined;
}

const oidSubjectKeyId = '2.5.29.14';
const oidAuthorityKeyId = '2.5.29.35';

/** x509.ParseCertificate: Node checks the certificate; forge's ASN.1 reader finds the key identifiers. */
function parseCertificate(der: string): Certificate {
  try {
    new X509Certificate(toBytes(der));
  } catch {
    throw new FuncError('x509: malformed certificate');
  }
  let subjectKeyId: string | undefined;
  let authorityKeyId: string | undefined;
  try {
    const cert = fromDer(der, { strict: true, parseAllBytes: true, decodeBitStrings: false });
    const tbs = (cert.value as Forge.asn1.Asn1[])[0];
    const extensions = ((tbs?.value ?? []) as Forge.asn1.Asn1[]).find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && (n.type as number) === 3);
    const list = ((extensions?.value as Forge.asn1.Asn1[] | undefined)?.[0]?.value ?? []) as Forge.asn1.Asn1[];
    for (const ext of list) {
      const parts = ext.value as Forge.asn1.Asn1[];
      const id = forge.asn1.derToOid(parts[0]?.value as string);
      const octets = parts[parts.length - 1]?.value;
      if (typeof octets !== 'string') continue;
      const inner = fromDer(octets, { strict: true, decodeBitStrings: false });
      if (id === oidSubjectKeyId && typeof inner.value === 'string') subjectKeyId = inner.value;
      if (id === oidAuthorityKeyId && Array.isArray(inner.value)) {
        const keyId = inner.value.find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && (n.type as number) === 0);
        if (keyId && typeof keyId.value === 'string') authorityKeyId = keyId.value;
      }
    }
  } catch {
    throw new FuncError('x509: malformed certificate');
  }
  return { raw: der, subjectKeyId, authorityKeyId };
}

/** Go's bytes.Equal: nil and empty are equal. */
function keyIdEqual(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '') === (b ?? '');
}

/** ESO's fetchX509CertChains: leaf first, then its issuers by key identifier. */
function fetchX509CertChains(data: string): Certificate[] {
  const nodes: { cert: Certificate; parent: number | undefined; isParent: boolean }[] = [];
  let rest = data;
  for (;;) {
    const [block, after] = pemDecode(rest);
    rest = after;
    if (!block) break;
    nodes.push({ cert: parseCertificate(block.bytes), parent: undefined, isParent: false });
  }
  nodes.forEach((node, i) => {
    for (let j = 0; j < nodes.length; j++) {
      if (i === j) continue;
      const other = nodes[j];
      if (other && keyIdEqual(node.cert.authorityKeyId, other.cert.subjectKeyId)) {
        other.isParent = true;
        node.parent = j;
        break;
      }
    }
  });
  let leaf: number | undefined;
  for (let i = 0; i < nodes.length; i++) {
    if (!nodes[i]?.isParent) {
      if (leaf !== undefined) throw new FuncError('found multiple leaf or disjunct certificates');
      leaf = i;
    }
  }
  if (leaf === undefined) throw new FuncError('no leaf certificate found');
  const chain: Certificate[] = [];
  for (let at: number | undefined = leaf; at !== undefined; at = nodes[at]?.parent) {
    if (chain.length >= nodes.length) throw new FuncError('constructing chain resulted in cycle');
    const node = nodes[at];
    if (!node) break;
    chain.push(node.cert);
  }
  return chain;
}

function isRootCertificate(cert: Certificate): boolean {
  return cert.authorityKeyId === undefined || keyIdEqual(cert.authorityKeyId, cert.subjectKeyId);
}

/** ESO's filterCertChain: the leaf, the intermediates or the root of a chain. */
export function filterCertChain(certType: string, input: string): string {
  const ordered = fetchX509CertChains(input);
  const leaf = ordered[0];
  switch (certType) {
    case 'leaf':
      if (leaf?.authorityKeyId !== undefined && !keyIdEqual(leaf.authorityKeyId, leaf.subjectKeyId)) return pem('CERTIFICATE', leaf.raw);
      break;
    case 'intermediate': {
      if (ordered.length < 2) return '';
      let out = '';
      for (const cert of ordered.slice(1)) {
        if (isRootCertificate(cert)) break;
        out += pem('CERTIFICATE', cert.raw);
      }
      return out;
    }
    case 'root': {
      const root = ordered[ordered.length - 1];
      if (root && isRootCertificate(root)) return pem('CERTIFICATE', root.raw);
      break;
    }
  }
  return '';
}

// ---- keys ----

function exportPkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'der' }).toString('latin1');
}

/** ESO's parsePrivateKey: PKCS#1, then PKCS#8, then SEC 1, whatever the PEM type says. */
function parsePrivateKey(der: string): KeyObject {
  for (const type of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: toBytes(der), format: 'der', type });
    } catch {
      /* next */
    }
  }
  throw new FuncError('unable to parse private key type');
}

// ---- PKCS#12 ----

function asciiPassword(password: string): string {
  if (!/^[\x20-\x7e]*$/.test(password)) throw new FuncError('PKCS#12 passwords must be printable ASCII here');
  return password;
}

interface Pfx {
  readonly key: string;
  readonly certs: string[];
}

/**
go-pkcs12's DecodeChain: exactly one key, the first certificate bag is the certificate, the others
its CAs. forge decrypts and checks the MAC; its certificate and key parsers are bypassed (they only
know RSA), so every bag keeps its exact DER.
*/
function decodePfx(data: string, password: string, fn: string): Pfx {
  const pw = asciiPassword(password);
  const pki = forge.pki as unknown as Record<string, unknown>;
  const certificateFromAsn1 = pki['certificateFromAsn1'];
  const privateKeyFromAsn1 = pki['privateKeyFromAsn1'];
  const keepDer = (): never => {
    throw new Error('keep the DER');
  };
  const fail = (reason: string): never => {
    throw new FuncError(fn.startsWith('pkcs12cert') ? `unable to decode pkcs12 certificate with password: ${reason}` : `unable to decode pkcs12 with password: ${reason}`);
  };
  let p12: Forge.pkcs12.Pkcs12Pfx;
  pki['certificateFromAsn1'] = keepDer;
  pki['privateKeyFromAsn1'] = keepDer;
  try {
    let asn1: Forge.asn1.Asn1;
    try {
      asn1 = fromDer(data, { strict: false, parseAllBytes: true });
    } catch {
      return fail('pkcs12: error reading P12 data');
    }
    try {
      p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, pw);
    } catch (error) {
      // go-pkcs12 tries an empty password both with and without the BMPString terminator.
      const message = error instanceof Error ? error.message : '';
      if (pw === '' && message.includes('MAC could not be verified')) {
        try {
          p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, null as unknown as string);
        } catch {
          return fail('pkcs12: decryption password incorrect');
        }
      } else if (message.includes('MAC could not be verified') || message.includes('wrong password') || message.includes('Failed to decrypt')) {
        return fail('pkcs12: decryption password incorrect');
      } else {
        return fail('pkcs12: unsupported or malformed PKCS#12 data');
      }
    }
  } finally {
    pki['certificateFromAsn1'] = certificateFromAsn1;
    pki['privateKeyFromAsn1'] = privateKeyFromAsn1;
  }
  if (p12.safeContents.length < 1 || p12.safeContents.length > 2) {
    fail(`pkcs12: expected between 1 and 2 items in the authenticated safe, but this file has ${p12.safeContents.length}`);
  }
  let key: string | undefined;
  const certs: string[] = [];
  for (const safe of p12.safeContents) {
    for (const bag of safe.safeBags) {
      const node = bag.asn1 as Forge.asn1.Asn1 | undefined;
      const der = node ? forge.asn1.toDer(node).getBytes() : undefined;
      if (bag.type === forge.pki.oids['certBag']) {
        if (der === undefined) fail('pkcs12: unsupported certificate');
        else certs.push(der);
      } else if (bag.type === forge.pki.oids['keyBag'] || bag.type === forge.pki.oids['pkcs8ShroudedKeyBag']) {
        if (key !== undefined) fail('pkcs12: expected exactly one key bag');
        if (der === undefined) return fail('pkcs12: unsupported private key');
        key = der;
      }
    }
  }
  if (certs.length === 0) fail('pkcs12: certificate missing');
  if (key === undefined) return fail('pkcs12: private key missing');
  let parsedKey: KeyObject;
  try {
    parsedKey = createPrivateKey({ key: toBytes(key), format: 'der', type: 'pkcs8' });
  } catch {
    return fail('pkcs12: error parsing PKCS#8 private key');
  }
  for (const cert of certs) {
    try {
      new X509Certificate(toBytes(cert));
    } catch {
      fail('x509: malformed certificate');
    }
  }
  return { key: exportPkcs8(parsedKey), certs };
}

export function pkcs12keyPass(password: string, input: string): string {
  return pem('PRIVATE KEY', decodePfx(input, password, 'pkcs12keyPass').key);
}

export function pkcs12certPass(password: string, input: string): string {
  const { certs } = decodePfx(input, password, 'pkcs12certPass');
  const pemData = certs.map((c) => pem('CERTIFICATE', c)).join('');
  try {
    return fetchX509CertChains(pemData)
      .map((c) => pem('CERTIFICATE', c.raw))
      .join('');
  } catch {
    return pemData;
  }
}

function asn1(tagClass: Forge.asn1.Class, type: Forge.asn1.Type, constructed: boolean, value: Forge.asn1.Asn1[] | string): Forge.asn1.Asn1 {
  return forge.asn1.create(tagClass, type, constructed, value);
}
// forge's ASN.1 enums, read when a PKCS#12 file is made: reading them at import would load forge.
const Class = lazy(() => forge.asn1.Class);
const T = lazy(() => forge.asn1.Type);
const oid = (id: string | undefined): Forge.asn1.Asn1 => asn1(Class.UNIVERSAL, T.OID, false, forge.asn1.oidToDer(id ?? '').getBytes());
const octets = (bytes: string): Forge.asn1.Asn1 => asn1(Class.UNIVERSAL, T.OCTETSTRING, false, bytes);
const seq = (items: Forge.asn1.Asn1[]): Forge.asn1.Asn1 => asn1(Class.UNIVERSAL, T.SEQUENCE, true, items);

function dataContentInfo(content: Forge.asn1.Asn1): Forge.asn1.Asn1 {
  return seq([oid(forge.pki.oids['data']), asn1(Class.CONTEXT_SPECIFIC, T.NONE, true, [octets(forge.asn1.toDer(content).getBytes())])]);
}

/**
A PKCS#12 file like go-pkcs12's Modern encoder makes (PBES2 with PBKDF2-HMAC-SHA-256 and AES-256-CBC
for the key, an HMAC-SHA-256 MAC, 2048 iterations, localKeyId pairing key and certificate), laid out
as node-forge's own toPkcs12Asn1 does (certificates in a plain SafeContents), but from DER so that
EC and Ed25519 keys work too (toPkcs12Asn1 takes RSA keys only).
*/
function encodePfx(keyDer: string, certs: readonly string[], password: string): string {
  const pw = asciiPassword(password);
  const localKeyId = createHash('sha1')
    .update(toBytes(certs[0] ?? ''))
    .digest()
    .toString('latin1');
  const attributes = asn1(Class.UNIVERSAL, T.SET, true, [seq([oid(forge.pki.oids['localKeyId']), asn1(Class.UNIVERSAL, T.SET, true, [octets(localKeyId)])])]);
  const certBags = certs.map((der, i) => {
    const bag = [oid(forge.pki.oids['certBag']), asn1(Class.CONTEXT_SPECIFIC, T.NONE, true, [seq([oid(forge.pki.oids['x509Certificate']), asn1(Class.CONTEXT_SPECIFIC, T.NONE, true, [octets(der)])])])];
    if (i === 0) bag.push(attributes);
    return seq(bag);
  });
  const privateKeyInfo = forge.asn1.fromDer(keyDer);
  const encryptedKey = forge.pki.encryptPrivateKeyInfo(privateKeyInfo, pw, { algorithm: 'aes256', count: 2048, saltSize: 16, prfAlgorithm: 'sha256' });
  const keyBag = seq([oid(forge.pki.oids['pkcs8ShroudedKeyBag']), asn1(Class.CONTEXT_SPECIFIC, T.NONE, true, [encryptedKey]), attributes]);
  const authenticatedSafe = seq([dataContentInfo(seq(certBags)), dataContentInfo(seq([keyBag]))]);
  const authSafeDer = forge.asn1.toDer(authenticatedSafe).getBytes();

  const macSalt = forge.random.getBytesSync(16);
  const iterations = 2048;
  const md = forge.md.sha256.create();
  const macKey = forge.pkcs12.generateKey(pw, forge.util.createBuffer(macSalt), 3, iterations, 32, md);
  const hmac = forge.hmac.create();
  hmac.start(md, macKey);
  hmac.update(authSafeDer);
  const mac = hmac.digest().getBytes();
  const macData = seq([seq([seq([oid(forge.pki.oids['sha256']), asn1(Class.UNIVERSAL, T.NULL, false, '')]), octets(mac)]), octets(macSalt), asn1(Class.UNIVERSAL, T.INTEGER, false, forge.asn1.integerToDer(iterations).getBytes())]);
  const pfx = seq([asn1(Class.UNIVERSAL, T.INTEGER, false, forge.asn1.integerToDer(3).getBytes()), seq([oid(forge.pki.oids['data']), asn1(Class.CONTEXT_SPECIFIC, T.NONE, true, [octets(authSafeDer)])]), macData]);
  return forge.asn1.toDer(pfx).getBytes();
}

function firstCertificate(input: string): [cert: string, rest: string] {
  const [block, rest] = pemDecode(input);
  // ESO dereferences the block without checking it: a panic in Go, an error here.
  if (!block) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
  parseCertificate(block.bytes);
  return [block.bytes, rest];
}

function certsToPkcs12(certs: string[], key: string, password: string): string {
  const [block] = pemDecode(key);
  if (!block) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
  const parsed = parsePrivateKey(block.bytes);
  return base64Encode(encodePfx(exportPkcs8(parsed), certs, password));
}

export function pemToPkcs12Pass(cert: string, key: string, password: string): string {
  return certsToPkcs12([firstCertificate(cert)[0]], key, password);
}

export function fullPemToPkcs12Pass(cert: string, key: string, password: string): string {
  const [leaf, afterLeaf] = firstCertificate(cert);
  const certs = [leaf];
  let rest = afterLeaf;
  while (rest.length > 0) {
    const [ca, after] = firstCertificate(rest);
    certs.push(ca);
    rest = after;
  }
  return certsToPkcs12(certs, key, password);
}

// ---- JWK ----

function parseJwk(json: string, fn: string): JsonWebKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(toText(json) ?? '');
  } catch {
    throw new FuncError(`${fn}: failed to parse JWK`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FuncError(`${fn}: failed to parse JWK`);
  return parsed as JsonWebKey;
}

export function jwkPublicKeyPem(json: string): string {
  const jwk = parseJwk(json, 'jwkPublicKeyPem');
  if (jwk.d !== undefined) throw new FuncError('x509: unsupported public key type: the JWK is a private key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new FuncError('failed to parse key: invalid or unsupported JWK');
  }
  return pem('PUBLIC KEY', key.export({ type: 'spki', format: 'der' }).toString('latin1'));
}

export function jwkPrivateKeyPem(json: string): string {
  const jwk = parseJwk(json, 'jwkPrivateKeyPem');
  if (jwk.d === undefined) throw new FuncError('x509: unknown key type while marshaling PKCS#8: the JWK is a public key');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new FuncError('failed to parse key: invalid or unsupported JWK');
  }
  return pem('PRIVATE KEY', exportPkcs8(key));
}
