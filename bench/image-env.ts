/**
The environment the container image gives the operator: the ENV instructions of the Dockerfile's
last stage. The bench starts the operator with exactly these, so that what it measures is what
the image runs (glibc's malloc settings, above all), not what the bench's own shell happens to have.
*/
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dockerfile = join(import.meta.dirname, '..', 'Dockerfile');

/** `KEY=value` pairs of the ENV instructions after the last FROM (the `ENV KEY value` form too). */
export function imageEnvironment(text = readFileSync(dockerfile, 'utf8')): Record<string, string> {
  // Continuation lines joined; comments dropped (a comment line inside an instruction is allowed too).
  const instructions = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n');
  const lastFrom = instructions.findLastIndex((line) => /^\s*FROM\s/i.test(line));
  const env: Record<string, string> = {};
  for (const line of instructions.slice(lastFrom + 1)) {
    const match = /^\s*ENV\s+(.*)$/i.exec(line);
    if (!match?.[1]) continue;
    const body = match[1].trim();
    const pairs = [...body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)];
    if (pairs.length === 0) {
      const [key, ...value] = body.split(/\s+/);
      if (key) env[key] = value.join(' ');
      continue;
    }
    for (const [, key, value] of pairs) if (key) env[key] = (value ?? '').replace(/^"(.*)"$/, '$1');
  }
  return env;
}
