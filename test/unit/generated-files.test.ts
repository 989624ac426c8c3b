import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../../scripts/generated-files.ts';

const root = join(import.meta.dirname, '../..');

describe('generated files', () => {
  it.for([...generatedFiles()])('%s is up to date with src/api (run npm run generate)', ([file, content]) => {
    const path = join(root, file);
    expect(existsSync(path), `${file} is missing`).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(content);
  });
});
