/**
The template engine: Go's text/template with the functions of External Secrets Operator's
templates (sprig v3 and ESO's certificate helpers), byte for byte as ESO renders them (the test
vectors in test/fixtures/template-vectors.json come from ESO's own engine). Values and output are
bytes. Only the data's own keys are visible, every function is in an explicit table, execution and
output are bounded, and every failure is a TemplateError that names the template and the position,
never a value. docs/templates.md is the user's guide.
*/
import { fromBytes, fromText } from './bytes.ts';
import { defaultLimits, type Limits } from './errors.ts';
import { compile, execute, isBuiltin, type CompiledTemplate } from './exec.ts';
import { functions } from './functions.ts';
import { GoMap } from './values.ts';

export { defaultLimits, TemplateError, type Limits } from './errors.ts';

/** A template's data: key to bytes, as a Secret holds it. */
export type TemplateData = ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;

export interface Template {
  readonly name: string;
  /** Renders with `data` as the dot; throws TemplateError. */
  render(data: TemplateData, limits?: Partial<Limits>): Buffer;
}

function dataMap(data: TemplateData): GoMap {
  const entries = data instanceof Map ? [...(data as ReadonlyMap<string, Uint8Array>)] : Object.entries(data as Readonly<Record<string, Uint8Array>>);
  return new GoMap('string', new Map(entries.map(([key, value]) => [fromText(key), fromBytes(value)])));
}

/** Parses a template (throws TemplateError for a syntax error, an unknown function or variable). */
export function parseTemplate(name: string, template: string): Template {
  const compiled: CompiledTemplate = compile(name, template, functions);
  return {
    name,
    render: (data, limits) => execute(compiled, dataMap(data), { ...defaultLimits, ...limits }),
  };
}

/** Parses and renders in one go. */
export function renderTemplate(name: string, template: string, data: TemplateData, limits?: Partial<Limits>): Buffer {
  return parseTemplate(name, template).render(data, limits);
}

/** Whether a template can call `name` (a Go builtin or one of the functions). */
export function isTemplateFunction(name: string): boolean {
  return functions.has(name) || isBuiltin(name);
}

/** Every function a template can call, Go's builtins included, sorted. */
export function templateFunctionNames(): string[] {
  const builtins = ['and', 'call', 'eq', 'ge', 'gt', 'html', 'index', 'js', 'le', 'len', 'lt', 'ne', 'not', 'or', 'print', 'printf', 'println', 'urlquery'];
  return [...new Set([...functions.keys(), ...builtins])].sort();
}
