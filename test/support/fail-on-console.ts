// Nothing in the product prints through console: it logs through pino. A stray console call in
// code under test fails the test, as in zod's test set-up.
import { afterEach } from 'vitest';

const calls: string[] = [];
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[method] = (...args: unknown[]) => {
    calls.push(`console.${method}: ${args.map(String).join(' ').slice(0, 200)}`);
  };
}

afterEach(() => {
  if (calls.length > 0) {
    const found = calls.splice(0);
    throw new Error(`unexpected console output:\n${found.join('\n')}`);
  }
});
