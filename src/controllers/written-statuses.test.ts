import { describe, expect, it } from 'vitest';
import type { ThalassaSecretStatus } from '../api/v1alpha1/thalassa-secret.ts';
import { WrittenStatuses } from './written-statuses.ts';

const status = (secretName: string): ThalassaSecretStatus => ({ observedGeneration: 1, conditions: [], secretName });

describe('WrittenStatuses', () => {
  it('answers with the written status while the cache still shows the version it was written from', () => {
    const written = new WrittenStatuses();
    written.record('ns/a', '10', '11', status('a'));
    expect(written.since('ns/a', '10')).toEqual({ from: '10', resourceVersion: '11', status: status('a') });
    expect(written.since('ns/a', '10')?.resourceVersion).toBe('11');
  });

  it('forgets the write once the cache has moved on, to it or past it', () => {
    const written = new WrittenStatuses();
    written.record('ns/a', '10', '11', status('a'));
    expect(written.since('ns/a', '11')).toBeUndefined();
    // Gone for good: the cache is the truth again.
    expect(written.since('ns/a', '10')).toBeUndefined();
    written.record('ns/b', '20', '21', status('b'));
    expect(written.since('ns/b', '25')).toBeUndefined();
    expect(written.size).toBe(0);
  });

  it('keeps only the most recent writes', () => {
    const written = new WrittenStatuses(2);
    written.record('ns/a', '1', '2', status('a'));
    written.record('ns/b', '1', '2', status('b'));
    written.record('ns/a', '2', '3', status('a'));
    written.record('ns/c', '1', '2', status('c'));
    expect(written.size).toBe(2);
    expect(written.since('ns/b', '1')).toBeUndefined();
    expect(written.since('ns/a', '2')?.resourceVersion).toBe('3');
    expect(written.since('ns/c', '1')?.resourceVersion).toBe('2');
  });
});
