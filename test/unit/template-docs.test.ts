/**
docs/templates.md's examples are tests: every ```yaml example block is rendered and must give its
`output` (or match `outputMatches`, or fail with `error`). Every function and construct must have
an example.
*/
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError, templateFunctionNames } from '../../src/template/index.ts';

interface Example {
  data?: Record<string, unknown>;
  data64?: Record<string, string>;
  files?: Record<string, string>;
  template: string;
  output?: string;
  outputMatches?: string;
  error?: string;
}

const doc = readFileSync(new URL('../../docs/templates.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```yaml example\n([\s\S]*?)```/g)].map((m, i) => ({ i, example: parse(m[1] ?? '') as Example }));
const testdata = new URL('../../tools/template-vectors/testdata/', import.meta.url);

function dataOf(e: Example): Map<string, Buffer> {
  const data = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(e.data ?? {})) data.set(k, Buffer.from(String(v)));
  for (const [k, v] of Object.entries(e.data64 ?? {})) data.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(e.files ?? {})) data.set(k, readFileSync(new URL(v, testdata)));
  return data;
}

describe('docs/templates.md', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(40);
  });

  it.for(examples)('example $i renders as documented', ({ example }) => {
    const render = (): string => renderTemplate('out', example.template, dataOf(example)).toString('utf8');
    if (example.error !== undefined) {
      expect(render).toThrow(TemplateError);
      expect(render).toThrow(example.error);
    } else if (example.outputMatches !== undefined) {
      expect(render()).toMatch(new RegExp(example.outputMatches));
    } else {
      expect(render()).toBe(example.output);
    }
  });

  it('shows every function', () => {
    const used = new Set(examples.flatMap(({ example }) => example.template.match(/[A-Za-z][A-Za-z0-9]*/g) ?? []));
    expect(templateFunctionNames().filter((name) => !used.has(name))).toEqual([]);
  });

  it('shows every construct', () => {
    const templates = examples.map(({ example }) => example.template).join('\n');
    for (const construct of ['{{-', '-}}', '{{/*', ':=', '= printf', '{{ if', '{{ else if', '{{ else }}', '{{ with', '{{ else with', '{{ range', '{{ break }}', '{{ continue }}', '{{ define', '{{ template', '{{ block', '$.', ' | ', '(printf', '`raw']) {
      expect(templates, construct).toContain(construct);
    }
  });
});
