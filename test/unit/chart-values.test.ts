import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartRoot, formatDefault, readChartValues } from './chart-values.ts';

const installDoc = readFileSync(join(import.meta.dirname, '../../docs/install.md'), 'utf8');
const values = readChartValues();

type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(chartRoot, 'values.schema.json'), 'utf8')) as Schema;

function resolve(node: Schema): Schema {
  const ref = node['$ref'];
  if (typeof ref !== 'string') return node;
  const name = ref.replace('#/definitions/', '');
  const target = (schema['definitions'] as Record<string, Schema | undefined>)[name];
  if (!target) throw new Error(`values.schema.json: unknown ${ref}`);
  return resolve(target);
}

/** The schema of a dotted path, or undefined when the schema does not describe it. */
function schemaAt(path: string): Schema | undefined {
  let node: Schema | undefined = schema;
  for (const key of path.split('.')) {
    node = node ? ((resolve(node)['properties'] as Record<string, Schema | undefined> | undefined)?.[key] ?? undefined) : undefined;
  }
  return node ? resolve(node) : undefined;
}

/** The JSON Schema types a node allows (through anyOf and const too). */
function typesOf(node: Schema): Set<string> {
  const types = new Set<string>();
  const type = node['type'];
  if (typeof type === 'string') types.add(type);
  if (Array.isArray(type)) for (const t of type as string[]) types.add(t);
  if ('const' in node) types.add(typeof node['const']);
  for (const option of (node['anyOf'] as Schema[] | undefined) ?? []) for (const t of typesOf(resolve(option))) types.add(t);
  return types;
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The rows of the values table in docs/install.md: key → the whole row. */
function documentedRows(): Map<string, string> {
  const section = installDoc.slice(installDoc.indexOf('\n## Values'), installDoc.indexOf('\n## ', installDoc.indexOf('\n## Values') + 1));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const match = /^\| `([A-Za-z0-9.]+)` \|/.exec(line);
    if (match?.[1]) rows.set(match[1], line);
  }
  return rows;
}

describe('the chart values', () => {
  it('has a `# --` comment on every value of values.yaml', () => {
    expect(values.undocumented).toEqual([]);
    expect(values.documented.length).toBeGreaterThan(50);
  });

  it('lists every value in the values table of docs/install.md, with its default', () => {
    const rows = documentedRows();
    const missing = values.documented.filter((v) => !rows.has(v.path)).map((v) => v.path);
    const wrongDefault = values.documented
      .filter((v) => rows.has(v.path) && !rows.get(v.path)?.includes(` ${formatDefault(v.defaultValue).replaceAll('|', '\\|')} `))
      .map((v) => `${v.path} (default ${formatDefault(v.defaultValue)})`);
    expect(missing, 'values missing from docs/install.md').toEqual([]);
    expect(wrongDefault, 'values whose default docs/install.md misstates').toEqual([]);
  });

  it('docs/install.md lists no value that values.yaml does not have', () => {
    const paths = new Set(values.documented.map((v) => v.path));
    expect([...documentedRows().keys()].filter((key) => !paths.has(key))).toEqual([]);
  });

  it('types every value in values.schema.json, in agreement with its default', () => {
    const problems: string[] = [];
    for (const { path, defaultValue } of values.documented) {
      const node = schemaAt(path);
      const types = node ? typesOf(node) : new Set<string>();
      const actual = jsonType(defaultValue);
      if (!node) problems.push(`${path}: not described`);
      else if (types.size === 0) problems.push(`${path}: no type`);
      else if (!types.has(actual) && !(actual === 'integer' && types.has('number'))) problems.push(`${path}: default is ${actual}, schema allows ${[...types].join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('values.schema.json describes nothing that values.yaml does not have (but a parent chart\'s global)', () => {
    const top = new Set(values.documented.map((v) => v.path.split('.')[0]));
    const described = Object.keys(schema['properties'] as Schema).filter((key) => key !== 'global');
    expect(described.filter((key) => !top.has(key))).toEqual([]);
    expect(schema['additionalProperties']).toBe(false);
    expect(schema['$schema']).toBe('http://json-schema.org/draft-07/schema#');
  });
});
