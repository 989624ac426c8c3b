/**
Builds the Secret's data from the revealed values and the spec: one key per `data` entry, every key
of a `dataFrom` key/value secret, every secret under a `dataFrom` prefix, then the templates. Pure:
no I/O, so every rule here is unit-tested.
*/
import { secretKeyPattern } from '../api/v1alpha1/common.ts';
import type { ThalassaSecretSpec } from '../api/v1alpha1/thalassa-secret.ts';
import { decodeBase64Strict } from '../thalassa/base64.ts';
import type { RevealedSecret } from '../thalassa/client.ts';
import { compileRewrites } from './key-rewrite.ts';
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

/** The Secret's content: its data and the labels and annotations its template renders. */
export interface SecretContent {
  readonly data: Map<string, Buffer>;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export function buildSecretData(spec: ThalassaSecretSpec, resolved: ResolvedValues): Map<string, Buffer> {
  return buildSecretContent(spec, resolved).data;
}

/** A template read from a ConfigMap (target.template.templateFrom), ready to render. */
export interface TemplateSource {
  /** The key it renders into: a Secret key, a label or an annotation. */
  readonly key: string;
  readonly template: string;
  readonly target: 'Data' | 'Labels' | 'Annotations';
  /** Its name in errors: `configMap app-templates key config.yaml`. */
  readonly name: string;
}

export function buildSecretContent(spec: ThalassaSecretSpec, resolved: ResolvedValues, sources: readonly TemplateSource[] = []): SecretContent {
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
    const rewrite = compileRewrites(entry.rewrite, `dataFrom[${i}]`);
    const put = (key: string, value: Buffer, where: string) => {
      const rewritten = rewrite(key);
      collector.put(rewritten, value, rewritten === key ? where : `${where} key "${key}" rewritten`);
    };
    for (const secret of secrets) {
      const where = `dataFrom[${i}] (${secret.path})`;
      if (secret.value.format === 'keyValue') {
        for (const [key, value] of Object.entries(secret.value.values)) {
          put(key, decodeValue(value, entry.decodingStrategy, `${where} key "${key}"`), where);
        }
      } else if (entry.pathPrefix !== undefined) {
        put(keyForPrefixMember(entry.pathPrefix, secret.path), secret.value.bytes, where);
      } else {
        throw new SyncError(reasons.InvalidSource, `${where}: dataFrom.path needs a key/value secret; use data with a key for a string secret`);
      }
    }
  });

  const data = applyTemplate(spec, collector.data, sources.filter((source) => source.target === 'Data'));
  let size = 0;
  for (const [key, value] of data) size += key.length + value.length;
  if (size > maxSecretDataBytes) {
    throw new SyncError(reasons.SecretTooLarge, `the Secret data would be ${size} bytes; Kubernetes allows at most ${maxSecretDataBytes}`);
  }
  const metadata = spec.target?.template?.metadata;
  return {
    data,
    labels: renderMetadata(withSources(sources, 'Labels', metadata?.labels), 'labels', collector.data),
    annotations: renderMetadata(withSources(sources, 'Annotations', metadata?.annotations), 'annotations', collector.data),
  };
}

interface NamedTemplate {
  readonly name: string;
  readonly template: string;
}

/** The spec's templates of one kind, after those of the ConfigMaps (the spec's win on the same key). */
function withSources(
  sources: readonly TemplateSource[],
  target: TemplateSource['target'],
  inline: Readonly<Record<string, string>> | undefined,
): Map<string, NamedTemplate> {
  const kind = target === 'Labels' ? 'labels' : 'annotations';
  const out = new Map<string, NamedTemplate>();
  for (const source of sources) if (source.target === target) out.set(source.key, { name: source.name, template: source.template });
  for (const [key, template] of Object.entries(inline ?? {})) out.set(key, { name: `metadata.${kind}.${key}`, template });
  return out;
}

/** Label values are short (63 characters); an annotation value may be large, but all of them share 256 KiB. */
const maxMetadataBytes = 256 * 1024;

function renderMetadata(templates: ReadonlyMap<string, NamedTemplate>, kind: 'labels' | 'annotations', data: ReadonlyMap<string, Buffer>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, { name, template: text }] of templates) {
    let rendered: Buffer;
    try {
      rendered = renderTemplateBytes(name, text, data, { maxOutputBytes: maxMetadataBytes });
    } catch (error) {
      if (error instanceof TemplateError) throw new SyncError(reasons.TemplateFailed, error.message);
      throw error;
    }
    const value = rendered.toString('utf8');
    if (!Buffer.from(value, 'utf8').equals(rendered)) {
      throw new SyncError(reasons.TemplateFailed, `template ${name}: the output is not UTF-8 text, which ${kind} must be`);
    }
    if (kind === 'labels' && (value.length > 63 || !validLabelValue.test(value))) {
      throw new SyncError(
        reasons.TemplateFailed,
        `template ${name}: the output (${rendered.length} bytes) is not a valid label value (at most 63 letters, digits, "-", "_", ".", starting and ending alphanumeric)`,
      );
    }
    out[key] = value;
  }
  return out;
}

const validLabelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function applyTemplate(spec: ThalassaSecretSpec, data: Map<string, Buffer>, sources: readonly TemplateSource[]): Map<string, Buffer> {
  const template = spec.target?.template;
  if (!template?.data && sources.length === 0) return data;
  const templates = new Map<string, NamedTemplate>();
  for (const source of sources) templates.set(source.key, { name: source.name, template: source.template });
  for (const [key, text] of Object.entries(template?.data ?? {})) templates.set(key, { name: key, template: text });
  // The values stay bytes: a keystore or a DER certificate passes through a template untouched.
  const out = template?.mergePolicy === 'Merge' ? new Map(data) : new Map<string, Buffer>();
  for (const [key, { name, template: text }] of templates) {
    try {
      out.set(key, renderTemplateBytes(name, text, data, { maxOutputBytes: maxSecretDataBytes }));
    } catch (error) {
      if (error instanceof TemplateError) throw new SyncError(reasons.TemplateFailed, error.message);
      throw error;
    }
  }
  return out;
}
