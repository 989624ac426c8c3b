import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settings } from '../../src/config.ts';
import { chartRoot, readChartValues } from './chart-values.ts';

/**
Defaults stated in prose must be the code's. docs/operations.md is generated from src/config.ts
(see the `generated files` test); everywhere else a flag's default is written by hand, right after
the flag: "`--value-cache-size` bytes (default `16Mi`)", "`--thalassa-timeout` (10 s)",
"`--store-recheck-interval`, 5 m)", "`--queue-base-delay` 1 s doubling". Each such statement is
parsed with the flag's own schema and compared with its default; text that is not a value of the
flag ("(chart `operator.x`)", "(the default)") is not a statement of its default.
*/

const root = join(import.meta.dirname, '../..');
const generated = new Set(['docs/operations.md', 'docs/api.md']);

function documents(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  const charts = readdirSync(join(root, 'charts'))
    .map((chart) => `charts/${chart}/README.md`)
    .filter((file) => existsSync(join(root, file)));
  return ['README.md', ...docs, ...charts].filter((file) => !generated.has(file));
}

type Flag = keyof typeof settings;
/** Flags without a default ("(in-cluster)" after `--kubeconfig` says what happens without it) have nothing to check. */
const flags = new Set<string>(Object.entries(settings).filter(([, s]) => s.default !== undefined && s.default !== '').map(([flag]) => flag));

export interface DefaultStatement {
  readonly file: string;
  readonly flag: Flag;
  /** As written. */
  readonly stated: string;
  /** The words around it, for the failure message. */
  readonly context: string;
}

/**
What follows a flag's mention, when it is a value: in parentheses, possibly after one word and
"default", in backticks or not; or a bare number right after the flag (or after a comma).
*/
const inParentheses = /^(?: [a-z]+)? \((?:default |defaults to )?`?([^`(),;]+?)`?[),;]/;
const bare = /^,? (\d[\d.]*(?: ?[A-Za-z]+)?(?:\/s)?)[),;: ]/;

export function defaultStatements(file: string, text: string): DefaultStatement[] {
  const prose = text.replace(/\s*\n\s*/g, ' ');
  const found: DefaultStatement[] = [];
  for (const match of prose.matchAll(/`--([a-z0-9-]+)`/g)) {
    const flag = match[1] ?? '';
    if (!flags.has(flag)) continue;
    const rest = prose.slice(match.index + match[0].length, match.index + match[0].length + 80);
    const stated = inParentheses.exec(rest)?.[1] ?? bare.exec(rest)?.[1];
    if (stated === undefined) continue;
    found.push({ file, flag: flag as Flag, stated, context: prose.slice(match.index, match.index + match[0].length + 60) });
  }
  return found;
}

/** Prose units to flag syntax: `5 m` → `5m`, `64 MiB` → `64Mi`, `50/s` → `50`, `16 MiB by default` → `16Mi`. */
function asFlagValue(stated: string): string {
  return stated
    .trim()
    .replace(/ by default$/, '')
    .replace(/\/s$/, '')
    .replace(/^(\d+) ?([KMG])iB$/, '$1$2i')
    .replace(/^(\d+(?:\.\d+)?) (ms|s|m|h)$/, '$1$2');
}

/** The stated value parsed as the flag parses it, or undefined when it is not a value of the flag. */
function parsedStatement(statement: DefaultStatement): { value: unknown } | undefined {
  const result = settings[statement.flag].schema.safeParse(asFlagValue(statement.stated));
  return result.success ? { value: result.data } : undefined;
}

function allStatements(): DefaultStatement[] {
  return documents().flatMap((file) => defaultStatements(file, readFileSync(join(root, file), 'utf8')));
}

describe('defaults stated in the docs', () => {
  const statements = allStatements().filter((statement) => parsedStatement(statement) !== undefined);

  it('finds the statements it is meant to check', () => {
    const where = (file: string, flag: string) => statements.some((s) => s.file === file && s.flag === flag);
    // The two that once said 64Mi while the code said 16Mi, and a few of every form.
    expect(where('docs/security.md', 'value-cache-size')).toBe(true);
    expect(where('docs/comparison.md', 'value-cache-size')).toBe(true);
    expect(where('docs/rotation.md', 'restart-coalesce')).toBe(true);
    expect(where('docs/troubleshooting.md', 'store-recheck-interval')).toBe(true);
    expect(where('docs/gitops.md', 'default-store')).toBe(true);
    expect(statements.length).toBeGreaterThanOrEqual(15);
  });

  it('reads each form of statement', () => {
    const read = (text: string) => defaultStatements('x.md', text).map((s) => s.stated);
    expect(read('`--value-cache-size` bytes (default `64Mi`, chart `operator.valueCacheSize`)')).toEqual(['64Mi']);
    expect(read('bounded by `--value-cache-size` (64 MiB). Measured')).toEqual(['64 MiB']);
    expect(read('`--store-recheck-interval`, 5 m) or')).toEqual(['5 m']);
    expect(read('(`--queue-base-delay` 1 s doubling up to `--queue-max-delay` 5 m, with jitter)')).toEqual(['1 s', '5 m']);
    expect(read('`--thalassa-qps` (50/s) with `--thalassa-burst`\n(100)')).toEqual(['50/s', '100']);
    expect(read('`--default-store` (`ClusterThalassaSecretStore/default`) serves')).toEqual(['ClusterThalassaSecretStore/default']);
    expect(read('`--default-refresh-interval` (chart `operator.defaultRefreshInterval`)')).toEqual([]);
    const parsed = (text: string) => defaultStatements('x.md', text).map((s) => parsedStatement(s)?.value);
    expect(parsed('`--value-cache-size` (64 MiB)')).toEqual([64 * 1024 ** 2]);
    expect(parsed('`--value-cache-size` (16 MiB by default)')).toEqual([16 * 1024 ** 2]);
    expect(parsed('`--leader-elect` (the default)')).toEqual([undefined]);
  });

  it.for(statements.map((s) => [`${s.file}: --${s.flag} "${s.stated}"`, s] as const))('%s is the default of src/config.ts', ([, statement]) => {
    const setting = settings[statement.flag];
    expect(
      parsedStatement(statement)?.value,
      `${statement.file} says "${statement.context}…"; the default of --${statement.flag} is ${setting.default ?? ''} (src/config.ts)`,
    ).toEqual(setting.schema.parse(setting.default));
  });
});

describe('defaults of the Helm chart', () => {
  // `- --flag={{ .Values.path }}` in the Deployment: the chart always passes the flag, so its value
  // is the default of every Helm install and must be the code's (docs/install.md lists it).
  const template = readFileSync(join(chartRoot, 'templates/deployment.yaml'), 'utf8');
  const passed = [...template.matchAll(/- --([a-z0-9-]+)=\{\{ \.Values\.([A-Za-z0-9.]+) \}\}/g)].map(([, flag = '', path = '']) => ({ flag, path }));
  const values = new Map(readChartValues().documented.map((v) => [v.path, v.defaultValue]));

  it('finds the flags the chart passes from its values', () => {
    expect(passed.map((p) => p.flag)).toEqual(expect.arrayContaining(['value-cache-size', 'default-refresh-interval', 'lease-duration']));
  });

  it.for(passed.map((p) => [`--${p.flag} from .Values.${p.path}`, p] as const))('%s defaults to the default of src/config.ts', ([, { flag, path }]) => {
    expect(flags.has(flag), `--${flag} has a default in src/config.ts`).toBe(true);
    const setting = settings[flag as Flag];
    expect(values.has(path), `values.yaml documents ${path}`).toBe(true);
    expect(setting.schema.parse(String(values.get(path))), `values.yaml ${path}: ${String(values.get(path))}; src/config.ts --${flag}: ${setting.default ?? ''}`).toEqual(
      setting.schema.parse(setting.default),
    );
  });
});
