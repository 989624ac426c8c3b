import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureControlPlaneBinaries } from '../support/cluster.ts';

/*
Every fenced block whose info string is exactly `sh runnable`, in README.md and docs/*.md, runs
with bash from the repository root against the test cluster, and must exit 0. Only quick commands
that change nothing are marked so (see docs/development.md): the docs cannot drift from the code.
*/

const repoRoot = join(import.meta.dirname, '../..');
const run = promisify(execFile);

interface RunnableBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly script: string;
}

/** The `sh runnable` blocks of one Markdown file, with list-item indentation removed. */
function runnableBlocks(file: string, markdown: string): RunnableBlock[] {
  const lines = markdown.split('\n');
  const blocks: RunnableBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      const close = /^ *(`{3,}|~{3,})\s*$/.exec(line);
      const closing = close?.[1];
      if (closing !== undefined && closing.startsWith(fence.slice(0, 1)) && closing.length >= fence.length) break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    if (info.trim() === 'sh runnable') blocks.push({ file, line: i + 1, script: body.join('\n') });
    i = j;
  }
  return blocks;
}

const markdownFiles = [
  'README.md',
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const blocks = markdownFiles.flatMap((file) => runnableBlocks(file, readFileSync(join(repoRoot, file), 'utf8')));

describe('the runnable commands of the documentation', () => {
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    const binDir = ensureControlPlaneBinaries();
    env = {
      ...process.env,
      KUBECONFIG: inject('kubeconfigPath'),
      PATH: [binDir, join(repoRoot, 'node_modules/.bin'), process.env['PATH'] ?? ''].join(':'),
    };
  });

  it('finds blocks marked `sh runnable`', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  for (const block of blocks) {
    it(`${block.file}:${block.line}`, async () => {
      const result = await run('bash', ['-e', '-o', 'pipefail', '-c', block.script], {
        cwd: repoRoot,
        env,
        timeout: 100_000,
        maxBuffer: 64 * 1024 * 1024,
      }).then(
        () => ({ code: 0, output: '' }),
        (error: unknown) => {
          const failed = error as { code?: number | string; signal?: string | null; stdout?: string; stderr?: string };
          return {
            code: typeof failed.code === 'number' ? failed.code : -1,
            output: `exit ${String(failed.code)} ${failed.signal ?? ''}\n--- stdout\n${(failed.stdout ?? '').slice(-4000)}\n--- stderr\n${(failed.stderr ?? '').slice(-4000)}`,
          };
        },
      );
      expect(result.code, `${block.file}:${block.line} failed:\n${block.script}\n${result.output}`).toBe(0);
    });
  }
});
