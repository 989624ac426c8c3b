/**
Templates and key mapping on the real API server (issue 16): admission of the new fields, dataFrom
rewrites and key collisions, templated metadata, template.type, Merge vs Replace, a binary keystore
through a template, and every failure reason with the Secret keeping its last good content.
*/
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThalassaSecretSpec } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { waitFor } from '../support/kube.ts';
import { group, OperatorHarness } from '../support/operator-harness.ts';

const canary = 'CANARY-TPL-4b7e21';

interface Vector {
  readonly name: string;
  readonly template: string;
  readonly data: Record<string, string>;
  readonly output: string;
}
const vectors = (JSON.parse(readFileSync(new URL('../fixtures/template-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] }).vectors;

describe('templates and key mapping', () => {
  let h: OperatorHarness;

  beforeAll(async () => {
    h = await OperatorHarness.start();
  });

  afterAll(async () => {
    await h.stop();
  });

  async function refusal(name: string, spec: Record<string, unknown>): Promise<string> {
    const error = await h.objects
      .createNamespacedCustomObject({
        group,
        version: 'v1alpha1',
        namespace: h.namespace,
        plural: 'thalassasecrets',
        body: { apiVersion: `${group}/v1alpha1`, kind: 'ThalassaSecret', metadata: { name }, spec: { storeRef: { name: 'thalassa' }, ...spec } },
      })
      .then(
        () => undefined,
        (e: unknown) => e as { code: number; body: string },
      );
    expect(error, 'the API server accepted it').toBeDefined();
    expect(error?.code).toBe(422);
    return (JSON.parse(String(error?.body)) as { message: string }).message;
  }

  describe('admission', () => {
    const kv = { dataFrom: [{ path: '/a/kv' }] };
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['a rewrite with both regexp and transform', { dataFrom: [{ path: '/a/kv', rewrite: [{ regexp: { source: 'a', target: 'b' }, transform: { template: 'x' } }] }] }, ['spec.dataFrom[0].rewrite[0]', 'exactly one of regexp and transform']],
      ['an empty rewrite', { dataFrom: [{ path: '/a/kv', rewrite: [{}] }] }, ['spec.dataFrom[0].rewrite[0]', 'exactly one of regexp and transform']],
      ['a rewrite source that is no RE2 expression', { dataFrom: [{ path: '/a/kv', rewrite: [{ regexp: { source: 'a(', target: 'b' } }] }] }, ['spec.dataFrom[0].rewrite[0].regexp.source', 'missing closing )']],
      // RE2 has no lookahead, so admission refuses what JavaScript would accept.
      ['a rewrite source with a lookahead', { dataFrom: [{ path: '/a/kv', rewrite: [{ regexp: { source: 'a(?=b)', target: 'b' } }] }] }, ['spec.dataFrom[0].rewrite[0].regexp.source', 'invalid or unsupported Perl syntax']],
      ['a rewrite regexp without target', { dataFrom: [{ path: '/a/kv', rewrite: [{ regexp: { source: 'a' } }] }] }, ['spec.dataFrom[0].rewrite[0].regexp.target', 'Required value']],
      ['an empty transform template', { dataFrom: [{ path: '/a/kv', rewrite: [{ transform: { template: '' } }] }] }, ['spec.dataFrom[0].rewrite[0].transform.template']],
      ['a template.type for a token Secret', { ...kv, target: { template: { type: 'kubernetes.io/service-account-token' } } }, ['spec.target.template.type', 'managed by Kubernetes']],
      ['a template.type contradicting target.type', { ...kv, target: { type: 'Opaque', template: { type: 'kubernetes.io/tls' } } }, ['spec.target.template.type', 'must agree']],
      ['a templateFrom ConfigMap without items', { ...kv, target: { template: { templateFrom: [{ configMap: { name: 'tpl', items: [] } }] } } }, ['spec.target.template.templateFrom[0].configMap.items']],
      ['a templateFrom templateAs KeysAndValues', { ...kv, target: { template: { templateFrom: [{ configMap: { name: 'tpl', items: [{ key: 'a', templateAs: 'KeysAndValues' }] } }] } } }, ['spec.target.template.templateFrom[0].configMap.items[0].templateAs', 'Unsupported value']],
      ['a templateFrom item key that is no Secret key', { ...kv, target: { template: { templateFrom: [{ configMap: { name: 'tpl', items: [{ key: 'a b' }] } }] } } }, ['spec.target.template.templateFrom[0].configMap.items[0].key']],
      ['a templateFrom ConfigMap name that is no name', { ...kv, target: { template: { templateFrom: [{ configMap: { name: 'Not_A_Name', items: [{ key: 'a' }] } }] } } }, ['spec.target.template.templateFrom[0].configMap.name']],
      ['an unknown templateFrom target', { ...kv, target: { template: { templateFrom: [{ configMap: { name: 'tpl', items: [{ key: 'a' }] }, target: 'Spec' }] } } }, ['spec.target.template.templateFrom[0].target', 'Unsupported value']],
      ['templated metadata that is not a map of strings', { ...kv, target: { template: { metadata: { labels: { a: 1 } } } } }, ['spec.target.template.metadata.labels.a']],
    ];
    it.for(cases)('rejects %s', async ([, spec, fragments], { task }) => {
      const message = await refusal(`bad-${task.id.slice(-6).toLowerCase().replaceAll(/[^a-z0-9]/g, 'x')}`, spec);
      for (const fragment of fragments) expect(message).toContain(fragment);
    });
  });

  it('rewrites dataFrom keys: a prefix member and key/value keys, in order', async () => {
    h.putSecret('/pre/app/db/password', `pw-${canary}`);
    h.putSecret('/pre/app/db/user', 'app');
    h.putSecret('/rw/kv', { 'API-KEY': 'k', 'API-URL': 'u' });
    await h.createThalassaSecret('rewrite', {
      dataFrom: [
        // Under /pre/, /pre/app/db/password is app_db_password before the rewrite.
        { pathPrefix: '/pre/', rewrite: [{ regexp: { source: '^app_', target: '' } }] },
        { path: '/rw/kv', rewrite: [{ transform: { template: '{{ .value | lower }}' } }, { regexp: { source: '^api-(?P<rest>.*)$', target: 'svc_${rest}' } }] },
      ],
    });
    await h.waitForReason('rewrite', 'Synced');
    expect(await h.secretData('rewrite')).toEqual({ db_password: `pw-${canary}`, db_user: 'app', svc_key: 'k', svc_url: 'u' });
  });

  it('templates labels and annotations and the type, over the synced values', async () => {
    h.putSecret('/meta/env', 'prod');
    h.putSecret('/meta/crt', 'CERT');
    h.putSecret('/meta/key', 'KEY');
    await h.createThalassaSecret('meta', {
      data: [
        { key: 'env', path: '/meta/env' },
        { key: 'tls.crt', path: '/meta/crt' },
        { key: 'tls.key', path: '/meta/key' },
      ],
      target: {
        labels: { team: 'edge' },
        template: {
          type: 'kubernetes.io/tls',
          mergePolicy: 'Merge',
          metadata: { labels: { env: '{{ .env }}', team: 'overridden' }, annotations: { summary: 'env={{ .env | upper }} keys={{ len . }}' } },
          data: { 'env.txt': 'ENV={{ .env }}' },
        },
      },
    });
    await h.waitForReason('meta', 'Synced');
    const secret = await h.readSecret('meta');
    expect(secret?.type).toBe('kubernetes.io/tls');
    expect(secret?.metadata?.labels).toMatchObject({ env: 'prod', team: 'edge', 'secrets.thalassa.cloud/managed': 'true' });
    expect(secret?.metadata?.annotations).toMatchObject({ summary: 'env=PROD keys=3' });
    expect(await h.secretData('meta')).toEqual({ env: 'prod', 'tls.crt': 'CERT', 'tls.key': 'KEY', 'env.txt': 'ENV=prod' });

    // A new value re-renders the metadata.
    h.putSecret('/meta/env', 'staging');
    await h.patchThalassaSecret('meta', { metadata: { annotations: { 'secrets.thalassa.cloud/force-sync': '1' } } });
    await waitFor(async () => (await h.readSecret('meta'))?.metadata?.labels?.['env'] === 'staging', { message: 'the label to follow the value' });
    expect((await h.readSecret('meta'))?.metadata?.annotations?.['summary']).toBe('env=STAGING keys=3');
  });

  it('Replace writes only the templated keys, Merge the synced ones too; switching rewrites the Secret', async () => {
    h.putSecret('/mp/password', 's3cret');
    const spec = (mergePolicy: 'Replace' | 'Merge' | undefined): ThalassaSecretSpec => ({
      data: [{ key: 'password', path: '/mp/password' }],
      target: { template: { ...(mergePolicy ? { mergePolicy } : {}), data: { url: 'postgres://app:{{ .password }}@db/app' } } },
    });
    await h.createThalassaSecret('merge-policy', spec(undefined));
    await h.waitForData('merge-policy', { url: 'postgres://app:s3cret@db/app' });
    await h.patchThalassaSecret('merge-policy', { spec: spec('Merge') });
    await h.waitForData('merge-policy', { url: 'postgres://app:s3cret@db/app', password: 's3cret' });
    await h.patchThalassaSecret('merge-policy', { spec: spec('Replace') });
    await h.waitForData('merge-policy', { url: 'postgres://app:s3cret@db/app' });
  });

  it('passes a binary PKCS#12 keystore through templates byte for byte', async () => {
    const vector = vectors.find((v) => v.name === 'pkcs12cert');
    const pfxBase64 = vector?.data['pfx'];
    if (!vector || pfxBase64 === undefined) throw new Error('the pkcs12cert vector is missing');
    const pfx = Buffer.from(pfxBase64, 'base64');
    h.putSecret('/ks/keystore', pfx);
    await h.createThalassaSecret('keystore', {
      data: [{ key: 'keystore', path: '/ks/keystore' }],
      target: { template: { mergePolicy: 'Merge', data: { 'tls.crt': '{{ .keystore | pkcs12cert }}', 'keystore.b64': '{{ .keystore | b64enc }}' } } },
    });
    await h.waitForReason('keystore', 'Synced');
    const secret = await h.readSecret('keystore');
    expect(Buffer.from(secret?.data?.['keystore'] ?? '', 'base64').equals(pfx)).toBe(true);
    expect(Buffer.from(secret?.data?.['keystore.b64'] ?? '', 'base64').toString('latin1')).toBe(pfx.toString('base64'));
    expect(secret?.data?.['tls.crt']).toBe(vector.output);
  });

  async function putConfigMap(name: string, data: Record<string, string>): Promise<void> {
    const body = { metadata: { name }, data };
    const exists = await h.core.readNamespacedConfigMap({ name, namespace: h.namespace }).then(
      () => true,
      () => false,
    );
    if (exists) await h.core.replaceNamespacedConfigMap({ name, namespace: h.namespace, body });
    else await h.core.createNamespacedConfigMap({ namespace: h.namespace, body });
  }

  it('renders templates from a ConfigMap, and re-renders on its edit without a reveal', async () => {
    h.putSecret('/tf/password', `pw-${canary}`);
    await putConfigMap('app-templates', { 'config.yaml': 'password: {{ .password }}\n', tier: 'gold', unused: 'x' });
    await h.createThalassaSecret('template-from', {
      data: [{ key: 'password', path: '/tf/password' }],
      target: {
        template: {
          templateFrom: [
            { configMap: { name: 'app-templates', items: [{ key: 'config.yaml', templateAs: 'Values' }] } },
            { configMap: { name: 'app-templates', items: [{ key: 'tier' }] }, target: 'Labels' },
          ],
        },
      },
    });
    await h.waitForData('template-from', { 'config.yaml': `password: pw-${canary}\n` });
    expect((await h.readSecret('template-from'))?.metadata?.labels?.['tier']).toBe('gold');
    const reveals = h.revealCount();

    await putConfigMap('app-templates', { 'config.yaml': 'db:\n  password: {{ .password | quote }}\n', tier: 'silver', unused: 'x' });
    await h.waitForData('template-from', { 'config.yaml': `db:\n  password: "pw-${canary}"\n` });
    await waitFor(async () => (await h.readSecret('template-from'))?.metadata?.labels?.['tier'] === 'silver', { message: 'the label to follow the ConfigMap' });
    expect(h.revealCount()).toBe(reveals);
    await h.waitForReason('template-from', 'Synced');
  });

  it('reports a missing ConfigMap, and syncs as soon as it is created', async () => {
    h.putSecret('/tf2/password', 'p');
    await h.createThalassaSecret('template-from-late', {
      data: [{ key: 'password', path: '/tf2/password' }],
      target: { template: { templateFrom: [{ configMap: { name: 'late-templates', items: [{ key: 'url' }] } }] } },
    });
    const resource = await h.waitForReason('template-from-late', 'TemplateSourceNotFound');
    expect(resource.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain('ConfigMap late-templates does not exist');
    expect(await h.readSecret('template-from-late')).toBeUndefined();
    await putConfigMap('late-templates', { url: 'db://{{ .password }}' });
    await h.waitForData('template-from-late', { url: 'db://p' });
  });

  describe('failures: Ready=False with the reason, the Secret keeps its last good content, a Warning Event, no value', () => {
    const good: ThalassaSecretSpec = { dataFrom: [{ path: '/fail/kv' }], data: [{ key: 'other', path: '/fail/other' }] };
    const failures: [reason: string, spec: ThalassaSecretSpec, fragments: string[]][] = [
      [
        'KeyCollision',
        { ...good, dataFrom: [{ path: '/fail/kv', rewrite: [{ regexp: { source: '^password$', target: 'other' } }] }] },
        ['dataFrom[0] (/fail/kv) key "password" rewritten', 'data[0]', 'the key "other"'],
      ],
      ['InvalidSource', { ...good, dataFrom: [{ path: '/fail/kv', rewrite: [{ regexp: { source: 'password', target: 'pass word' } }] }] }, ['"pass word" is not a valid Secret key']],
      ['TemplateFailed', { ...good, dataFrom: [{ path: '/fail/kv', rewrite: [{ transform: { template: '{{ .value | nosuchfn }}' } }] }] }, ['dataFrom[0].rewrite[0].transform']],
      ['TemplateFailed', { ...good, target: { template: { metadata: { labels: { l: '{{ .password }}!' } } } } }, ['metadata.labels.l', 'not a valid label value']],
      ['TemplateFailed', { ...good, target: { template: { metadata: { annotations: { a: '{{ .missing }}' } } } } }, ['metadata.annotations.a']],
      ['TemplateSourceNotFound', { ...good, target: { template: { templateFrom: [{ configMap: { name: 'no-such-cm', items: [{ key: 'k' }] } }] } } }, ['ConfigMap no-such-cm does not exist']],
      ['TemplateSourceNotFound', { ...good, target: { template: { templateFrom: [{ configMap: { name: 'fail-templates', items: [{ key: 'nokey' }] } }] } } }, ['ConfigMap fail-templates has no key "nokey"']],
      ['TemplateFailed', { ...good, target: { template: { templateFrom: [{ configMap: { name: 'fail-templates', items: [{ key: 'broken' }] } }] } } }, ['configMap fail-templates key broken']],
    ];
    it.for(failures.map((f, i) => [i, ...f] as const))('#%i %s', async ([i, reason, spec, fragments]) => {
      const name = `fail-${i}`;
      h.putSecret('/fail/kv', { password: `kv-${canary}` });
      h.putSecret('/fail/other', 'o');
      await putConfigMap('fail-templates', { broken: '{{ .password | nosuchfn }}' });
      await h.createThalassaSecret(name, good);
      await h.waitForReason(name, 'Synced');
      const before = await h.secretData(name);
      expect(before).toEqual({ password: `kv-${canary}`, other: 'o' });

      await h.patchThalassaSecret(name, { spec });
      const resource = await h.waitForReason(name, reason);
      const ready = resource.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status).toBe('False');
      for (const fragment of fragments) expect(ready?.message).toContain(fragment);
      expect(await h.secretData(name)).toEqual(before);
      await waitFor(async () => (await h.events()).some((e) => e.startsWith(`Warning ${reason} `)), { message: `a Warning ${reason} Event` });
      expect(await h.outputs()).not.toContain(canary);
    });
  });
});
