import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reasons } from '../../src/controllers/sync-error.ts';
import { clusterReasons } from '../../src/controllers/cluster-fan-out.ts';

/** Every Ready reason the operator can report is explained in docs/troubleshooting.md. */

const markdown = readFileSync(join(import.meta.dirname, '../../docs/troubleshooting.md'), 'utf8');
const lines = markdown.split('\n');

/** A heading that is the reason (`### StoreNotFound` or `` ### `StoreNotFound` ``). */
function hasHeading(reason: string): boolean {
  return lines.some((line) => new RegExp(`^#{2,6}\\s+\`?${reason}\`?\\s*$`).test(line));
}

/** A table row whose first cell names the reason (plain, in backticks, or as a link). */
function hasTableRow(reason: string): boolean {
  return lines.some((line) => {
    const firstCell = /^\|([^|]*)\|/.exec(line)?.[1];
    return firstCell !== undefined && new RegExp(`^\\s*\\[?\`?${reason}\`?\\]?(\\(#[-a-z0-9]+\\))?\\s*$`).test(firstCell);
  });
}

describe('docs/troubleshooting.md', () => {
  const thalassaSecretReasons = [...Object.values(reasons), 'Synced'];
  const storeReasons = ['Valid', reasons.InvalidStore, reasons.CredentialsNotFound];

  it.each(thalassaSecretReasons)('explains the ThalassaSecret reason %s under a heading and in the table', (reason) => {
    expect(hasHeading(reason), `a heading for ${reason}`).toBe(true);
    expect(hasTableRow(reason), `a table row for ${reason}`).toBe(true);
  });

  it.each(storeReasons)('explains the store reason %s', (reason) => {
    expect(hasHeading(reason) || hasTableRow(reason)).toBe(true);
  });

  it.each(Object.values(clusterReasons))('explains the ClusterThalassaSecret reason %s under a heading and in the table', (reason) => {
    expect(hasHeading(reason), `a heading for ${reason}`).toBe(true);
    expect(hasTableRow(reason), `a table row for ${reason}`).toBe(true);
  });

  it('links only to headings that exist', () => {
    const anchors = new Set(
      lines
        .filter((line) => /^#{1,6}\s/.test(line))
        .map((line) =>
          line
            .replace(/^#+\s+/, '')
            .toLowerCase()
            .replace(/[^a-z0-9 -]/g, '')
            .replace(/ /g, '-'),
        ),
    );
    const links = [...markdown.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] ?? '');
    expect(links.filter((anchor) => !anchors.has(anchor))).toEqual([]);
  });
});
