// Writes the files derived from the zod schemas (`npm run generate`), or with --check lists the
// ones that are out of date and exits 1.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles } from './generated-files.ts';

const root = join(import.meta.dirname, '..');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [file, content] of generatedFiles()) {
  const target = join(root, file);
  const current = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
  if (current === content) continue;
  if (check) {
    stale.push(file);
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote ${file}`);
  }
}
if (stale.length > 0) {
  console.error(`out of date (run npm run generate): ${stale.join(', ')}`);
  process.exit(1);
}
