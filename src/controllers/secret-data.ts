/**
Builds the Secret's data from the revealed values and the spec: one key per `data` entry, every key
of a `dataFrom` key/value secret, every secret under a `dataFrom` prefix, then the templates. Pure:
no I/O, so every rule here is unit-tested.
*/
import { secretKeyPattern } from '../api/v1alpha1/common.ts';
import type { ThalassaSecretSpec } from '../api/v1alpha1/thalassa-secret.ts';
import { decodeBase64Strict } from '../thalassa/base64.ts';
import type { RevealedSecret } from '../thalassa/client.ts';
import { reasons, SyncError } from './sync-error.ts';
import { renderTemplateBytes, TemplateError } from './template.ts';

/** Kubernetes refuses a Secret whose data is larger than 1 MiB. */
export const maxSecretDataBytes = 1024 * 1024;
const validKey = new RegExp(secretKeyPattern);

/** The values a spec needs, in the order of its entries. */
export interface ResolvedValues {
  /** One per `spec.data` entry. */
  readonly data: readonly RevealedSecret[];
  /** One list per `spec.dataFrom` entry: a single secret for `path`, every secret under it for `pathPrefix`. */
  readonly dataFrom: readonly (readonly RevealedSecret[])[];
}

type Decoding = 'None' | 'Base64' | undefined;

function decodeValue(value: string, decoding: Decoding, where: string): Buffer {
  if (decoding !== 'Base64') return Buffer.from(value, 'utf8');
  const bytes = decodeBase64Strict(value);
  if (!bytes) throw new SyncError(reasons.DecodingFailed, `${where}: the value is not base64 (decodingStrategy Base64)`);
  return bytes;
}

/** `/app/shared/db/url` under `/app/shared/` becomes the key `db_url`. */
export function keyForPrefixMember(prefix: string, path: string): string {
  return path.slice(prefix.length).replaceAll('/', '_');
}

class DataCollector {
  readonly data = new Map<string, Buffer>();
  readonly #origin = new Map<string, string>();

  put(key: string, value: Buffer, origin: string): void {
    if (!validKey.test(key) || key.length > 253) {
      throw new SyncError(reasons.InvalidSource, `${origin}: "${key}" is not a valid Secret key (letters, digits, "-", "_", ".")`);
    }
    const previous = this.#origin.get(key);
    if (previous !== undefined) {
      throw new SyncError(reasons.KeyCollision, `${origin} and ${previous} both write the key "${key}"`);
    }
    this.data.set(key, value);
    this.#origin.set(key, origin);
  }
}

export function buildSecretData(spec: ThalassaSecretSpec, resolved: ResolvedValues): Map<string, Buffer> {
  const collector = new DataCollector();
  (spec.data ?? []).forEach((entry, i) => {
    const secret = resolved.data[i];
    if (!secret) throw new Error(`no value resolved for data[${i}]`);
    const where = `data[${i}] (${entry.path})`;
    if (secret.value.format === 'string') {
      if (entry.property !== undefined) {
        throw new SyncError(reasons.InvalidSource, `${where}: property "${entry.property}" is set but the secret is a string, not key/value`);
      }
      collector.put(entry.key, secret.value.bytes, `data[${i}]`);
      return;
    }
    if (entry.property === undefined) {
      throw new SyncError(reasons.InvalidSource, `${where}: the secret is key/value; set property to the key to take`);
    }
    const value = secret.value.values[entry.property];
    if (value === undefined) throw new SyncError(reasons.InvalidSource, `${where}: the secret has no key "${entry.property}"`);
    collector.put(entry.key, decodeValue(value, entry.decodingStrategy, where), `data[${i}]`);
  });

  (spec.dataFrom ?? []).forEach((entry, i) => {
    const secrets = resolved.dataFrom[i] ?? [];
    for (const secret of secrets) {
      const where = `dataFrom[${i}] (${secret.path})`;
      if (secret.value.format === 'keyValue') {
        for (const [key, value] of Object.entries(secret.value.values)) {
          collector.put(key, decodeValue(value, entry.decodingStrategy, `${where} key "${key}"`), where);
        }
      } else if (entry.pathPrefix !== undefined) {
        collector.put(keyForPrefixMember(entry.pathPrefix, secret.path), secret.value.bytes, where);
      } else {
        throw new SyncError(reasons.InvalidSource, `${where}: dataFrom.path needs a key/value secret; use data with a key for a string secret`);
      }
    }
  });

  const data = applyTemplate(spec, collector.data);
  let size = 0;
  for (const [key, value] of data) size += key.length + value.length;
  if (size > maxSecretDataBytes) {
    throw new SyncError(reasons.SecretTooLarge, `the Secret data would be ${size} bytes; Kubernetes allows at most ${maxSecretDataBytes}`);
  }
  return data;
}

function applyTemplate(spec: ThalassaSecretSpec, data: Map<string, Buffer>): Map<string, Buffer> {
  const template = spec.target?.template;
  if (!template?.data) return data;
  // The values stay bytes: a keystore or a DER certificate passes through a template untouched.
  const out = template.mergePolicy === 'Merge' ? new Map(data) : new Map<string, Buffer>();
  for (const [key, text] of Object.entries(template.data)) {
    try {
      out.set(key, renderTemplateBytes(key, text, data, { maxOutputBytes: maxSecretDataBytes }));
    } catch (error) {
      if (error instanceof TemplateError) throw new SyncError(reasons.TemplateFailed, error.message);
      throw error;
    }
  }
  return out;
}
