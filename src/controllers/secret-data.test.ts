import { describe, expect, it } from 'vitest';
import type { ThalassaSecretSpec } from '../api/v1alpha1/thalassa-secret.ts';
import type { RevealedSecret } from '../thalassa/client.ts';
import { buildSecretContent, buildSecretData, keyForPrefixMember, maxSecretDataBytes } from './secret-data.ts';
import { SyncError } from './sync-error.ts';

const str = (path: string, value: string | Buffer, version = 1): RevealedSecret => ({
  path,
  version,
  value: { format: 'string', bytes: Buffer.isBuffer(value) ? value : Buffer.from(value) },
});
const kv = (path: string, values: Record<string, string>, version = 1): RevealedSecret => ({
  path,
  version,
  value: { format: 'keyValue', values },
});

function text(data: Map<string, Buffer>): Record<string, string> {
  return Object.fromEntries([...data].map(([k, v]) => [k, v.toString('utf8')]));
}

function failure(spec: ThalassaSecretSpec, data: RevealedSecret[], dataFrom: RevealedSecret[][] = []): SyncError {
  try {
    buildSecretData(spec, { data, dataFrom });
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error('expected a SyncError');
}

describe('buildSecretData', () => {
  it('puts string secrets under their keys, keeping binary bytes intact', () => {
    const binary = Buffer.from([0, 255, 128, 10]);
    const data = buildSecretData(
      { data: [{ key: 'password', path: '/a' }, { key: 'blob', path: '/b' }] },
      { data: [str('/a', 'pw'), str('/b', binary)], dataFrom: [] },
    );
    expect(data.get('password')?.toString()).toBe('pw');
    expect(data.get('blob')?.equals(binary)).toBe(true);
  });

  it('takes one property of a key/value secret, decoding base64 when asked', () => {
    const spec: ThalassaSecretSpec = {
      data: [
        { key: 'host', path: '/db', property: 'host' },
        { key: 'cert', path: '/db', property: 'cert', decodingStrategy: 'Base64' },
      ],
    };
    const secret = kv('/db', { host: 'db.local', cert: Buffer.from('PEM').toString('base64') });
    expect(text(buildSecretData(spec, { data: [secret, secret], dataFrom: [] }))).toEqual({ host: 'db.local', cert: 'PEM' });
  });

  it('expands key/value secrets and prefixes in dataFrom', () => {
    const spec: ThalassaSecretSpec = { dataFrom: [{ path: '/db/creds' }, { pathPrefix: '/shared/' }] };
    const data = buildSecretData(spec, {
      data: [],
      dataFrom: [[kv('/db/creds', { username: 'u', password: 'p' })], [str('/shared/api/key', 'k'), kv('/shared/flags', { debug: 'on' })]],
    });
    expect(text(data)).toEqual({ username: 'u', password: 'p', api_key: 'k', debug: 'on' });
    expect(keyForPrefixMember('/shared/', '/shared/a/b.c')).toBe('a_b.c');
  });

  it('renders templates, replacing or merging the synced keys', () => {
    const base: ThalassaSecretSpec = {
      data: [{ key: 'password', path: '/pw' }],
      target: { template: { data: { url: 'postgres://app:{{ .password }}@db/app' } } },
    };
    const values = { data: [str('/pw', 's3cret')], dataFrom: [] };
    expect(text(buildSecretData(base, values))).toEqual({ url: 'postgres://app:s3cret@db/app' });
    const merged = { ...base, target: { template: { ...base.target?.template, mergePolicy: 'Merge' as const } } };
    expect(text(buildSecretData(merged, values))).toEqual({ password: 's3cret', url: 'postgres://app:s3cret@db/app' });
  });

  it('rewrites the keys of a dataFrom entry: /app/db/password under / becomes db_password', () => {
    const data = buildSecretData(
      {
        dataFrom: [
          { pathPrefix: '/', rewrite: [{ regexp: { source: '^app_', target: '' } }] },
          { path: '/kv', rewrite: [{ transform: { template: '{{ .value | lower }}' } }, { regexp: { source: '^', target: 'kv-' } }] },
        ],
      },
      { data: [], dataFrom: [[str('/app/db/password', 'pw')], [kv('/kv', { USER: 'u' })]] },
    );
    expect(text(data)).toEqual({ db_password: 'pw', 'kv-user': 'u' });
  });

  it('renders templated labels and annotations over the synced values', () => {
    const content = buildSecretContent(
      { data: [{ key: 'env', path: '/e' }], target: { template: { metadata: { labels: { env: '{{ .env }}' }, annotations: { note: 'env={{ .env | upper }}' } } } } },
      { data: [str('/e', 'prod')], dataFrom: [] },
    );
    expect(content.labels).toEqual({ env: 'prod' });
    expect(content.annotations).toEqual({ note: 'env=PROD' });
    expect(text(content.data)).toEqual({ env: 'prod' });
  });

  it('passes binary values through a template byte for byte', () => {
    const binary = Buffer.from([0xff, 0x00, 0x80, 0xc3]);
    const spec: ThalassaSecretSpec = {
      data: [{ key: 'x', path: '/bin' }],
      target: { template: { data: { encoded: '{{ .x | b64enc }}', raw: '{{ .x }}' } } },
    };
    const data = buildSecretData(spec, { data: [str('/bin', binary)], dataFrom: [] });
    expect(data.get('encoded')?.toString()).toBe('/wCAww==');
    expect(data.get('raw')?.equals(binary)).toBe(true);
  });

  const failures: [string, ThalassaSecretSpec, RevealedSecret[], RevealedSecret[][], string, string][] = [
    [
      'a key collision between sources',
      { data: [{ key: 'username', path: '/u' }], dataFrom: [{ path: '/creds' }] },
      [str('/u', 'x')],
      [[kv('/creds', { username: 'y' })]],
      'KeyCollision',
      'dataFrom[0] (/creds) and data[0] both write the key "username"',
    ],
    ['a property on a string secret', { data: [{ key: 'k', path: '/s', property: 'p' }] }, [str('/s', 'x')], [], 'InvalidSource', 'is a string'],
    ['a key/value secret without property', { data: [{ key: 'k', path: '/kv' }] }, [kv('/kv', { a: 'b' })], [], 'InvalidSource', 'set property'],
    ['a missing property', { data: [{ key: 'k', path: '/kv', property: 'nope' }] }, [kv('/kv', { a: 'b' })], [], 'InvalidSource', 'no key "nope"'],
    ['a string secret in dataFrom.path', { dataFrom: [{ path: '/s' }] }, [], [[str('/s', 'x')]], 'InvalidSource', 'needs a key/value secret'],
    ['a key/value key that is no Secret key', { dataFrom: [{ path: '/kv' }] }, [], [[kv('/kv', { 'bad key': 'x' })]], 'InvalidSource', 'not a valid Secret key'],
    ['a prefix member whose name is no Secret key', { dataFrom: [{ pathPrefix: '/p/' }] }, [], [[str('/p/a+b', 'x')]], 'InvalidSource', '"a+b"'],
    [
      'two rewritten keys that collide, naming both sources and the key',
      { dataFrom: [{ pathPrefix: '/a/', rewrite: [{ regexp: { source: '^.*_', target: '' } }] }, { path: '/kv' }] },
      [],
      [[str('/a/x/password', 'p')], [kv('/kv', { password: 'q' })]],
      'KeyCollision',
      'dataFrom[1] (/kv) and dataFrom[0] (/a/x/password) key "x_password" rewritten both write the key "password"',
    ],
    [
      'a key rewritten into no Secret key',
      { dataFrom: [{ path: '/kv', rewrite: [{ regexp: { source: 'a', target: 'a b' } }] }] },
      [],
      [[kv('/kv', { a: 'x' })]],
      'InvalidSource',
      '"a b" is not a valid Secret key',
    ],
    [
      'a rewrite source JavaScript cannot compile',
      { dataFrom: [{ path: '/kv', rewrite: [{ regexp: { source: '(', target: '' } }] }] },
      [],
      [[kv('/kv', { a: 'x' })]],
      'InvalidSource',
      'dataFrom[0].rewrite[0].regexp',
    ],
    [
      'a templated label that is no label value',
      { data: [{ key: 'k', path: '/s' }], target: { template: { metadata: { labels: { l: '{{ .k }} x' } } } } },
      [str('/s', 'v')],
      [],
      'TemplateFailed',
      'metadata.labels.l',
    ],
    [
      'a templated annotation that fails',
      { data: [{ key: 'k', path: '/s' }], target: { template: { metadata: { annotations: { a: '{{ .missing }}' } } } } },
      [str('/s', 'v')],
      [],
      'TemplateFailed',
      'metadata.annotations.a',
    ],
    [
      'invalid base64 under decodingStrategy Base64',
      { data: [{ key: 'k', path: '/kv', property: 'a', decodingStrategy: 'Base64' }] },
      [kv('/kv', { a: 'not base64!' })],
      [],
      'DecodingFailed',
      'not base64',
    ],
    [
      'a template that outputs more than a Secret holds',
      { data: [{ key: 'k', path: '/s' }], target: { template: { data: { out: '{{ range 2000000 }}x{{ end }}' } } } },
      [str('/s', 'x')],
      [],
      'TemplateFailed',
      'template "out"',
    ],
    [
      'a template referring to a missing key',
      { data: [{ key: 'k', path: '/s' }], target: { template: { data: { out: '{{ .other }}' } } } },
      [str('/s', 'x')],
      [],
      'TemplateFailed',
      'template "out" 1:3: at <.other>: map has no entry for key "other"',
    ],
    [
      'data over 1 MiB',
      { data: [{ key: 'big', path: '/big' }] },
      [str('/big', Buffer.alloc(maxSecretDataBytes))],
      [],
      'SecretTooLarge',
      'at most 1048576',
    ],
  ];
  it.for(failures)('fails on %s', ([, spec, data, dataFrom, reason, message]) => {
    const error = failure(spec, data, dataFrom);
    expect(error.reason).toBe(reason);
    expect(error.message).toContain(message);
  });

  it('keeps values out of error messages', () => {
    const error = failure(
      { data: [{ key: 'k', path: '/kv', property: 'a', decodingStrategy: 'Base64' }] },
      [kv('/kv', { a: 'CANARY-not-base64' })],
    );
    expect(error.message).not.toContain('CANARY');
  });
});
