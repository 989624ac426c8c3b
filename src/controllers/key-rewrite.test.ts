import { describe, expect, it } from 'vitest';
import { compileGoRegexp, compileRewrites, replaceAllGo } from './key-rewrite.ts';
import { SyncError } from './sync-error.ts';

describe('replaceAllGo', () => {
  // Expected outputs from Go's regexp.ReplaceAllString (go1.2x), including its documented examples.
  const vectors: [source: string, input: string, target: string, expected: string][] = [
    ['a(x*)b', '-ab-axxb-', 'T', '-T-T-'],
    ['a(x*)b', '-ab-axxb-', '$1', '--xx-'],
    ['a(x*)b', '-ab-axxb-', '$1W', '---'],
    ['a(x*)b', '-ab-axxb-', '${1}W', '-W-xxW-'],
    ['a*', 'baaac', 'X', 'XbXcX'],
    ['x*', 'abc', '-', '-a-b-c-'],
    ['(?P<first>[a-z]+)/(?P<rest>.*)', 'app/db/password', '${rest}_$first$$', 'db/password_app$'],
    ['/', 'app/db/password', '_', 'app_db_password'],
    ['^app_', 'app_db_password', '', 'db_password'],
    ['nomatch', 'key', 'x', 'key'],
  ];
  it.for(vectors)('%s on %s with %s', ([source, input, target, expected]) => {
    expect(replaceAllGo(compileGoRegexp(source, 'test'), input, target)).toBe(expected);
  });

  it('refuses an expression it cannot compile, as InvalidSource', () => {
    expect(() => compileGoRegexp('a(', 'dataFrom[0].rewrite[0].regexp')).toThrow(SyncError);
    try {
      compileGoRegexp('a(', 'dataFrom[0].rewrite[0].regexp');
    } catch (error) {
      expect((error as SyncError).reason).toBe('InvalidSource');
      expect((error as SyncError).message).toContain('dataFrom[0].rewrite[0].regexp');
    }
  });
});

describe('compileRewrites', () => {
  it('applies rewrites in order, each on the output of the previous one', () => {
    const rewrite = compileRewrites(
      [{ regexp: { source: '^app_', target: '' } }, { transform: { template: '{{ .value | upper }}' } }, { regexp: { source: '_', target: '-' } }],
      'dataFrom[0]',
    );
    expect(rewrite('app_db_password')).toBe('DB-PASSWORD');
  });

  it('is the identity without rewrites', () => {
    expect(compileRewrites(undefined, 'dataFrom[0]')('Key.1')).toBe('Key.1');
  });

  it('reports a transform that fails as TemplateFailed, naming the rewrite', () => {
    const rewrite = compileRewrites([{ transform: { template: '{{ .nope }}' } }], 'dataFrom[3]');
    try {
      rewrite('k');
      expect.unreachable();
    } catch (error) {
      expect((error as SyncError).reason).toBe('TemplateFailed');
      expect((error as SyncError).message).toContain('dataFrom[3].rewrite[0].transform');
    }
  });
});
