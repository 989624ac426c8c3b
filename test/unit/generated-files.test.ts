import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

  it('leaves no manifest in crds/ or a chart\'s CRD folder that npm run generate does not write', () => {
    const written = new Set(generatedFiles().keys());
    const folders = ['crds', ...readdirSync(join(root, 'charts')).flatMap((chart) => [`charts/${chart}/crds`, `charts/${chart}/templates/crds`])];
    const stray = folders
      .filter((folder) => existsSync(join(root, folder)))
      .flatMap((folder) => readdirSync(join(root, folder)).map((name) => `${folder}/${name}`))
      .filter((file) => !written.has(file));
    expect(stray, 'remove them, or generate them from src/api').toEqual([]);
  });
});
