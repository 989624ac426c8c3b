import { describe, expect, it } from 'vitest';
import { formatLine } from './text-log-destination.ts';

describe('formatLine', () => {
  it('prints time, level, message and the other fields', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-11-26T04:00:00.000Z', name: 'x', msg: 'synced', resource: 'ns/a', count: 2, note: 'two words' });
    expect(formatLine(line)).toBe('2026-11-26T04:00:00.000Z INFO  synced resource=ns/a count=2 note="two words"');
  });

  it('passes lines that are not JSON through', () => {
    expect(formatLine('plain')).toBe('plain');
  });
});
