/**
The operator's templates: Go's text/template with the functions of External Secrets Operator's
templates, byte for byte as ESO renders them. The engine is src/template/ (docs/templates.md is
the user's guide); this module keeps the controller's entry points.

Values are bytes: renderTemplateBytes takes and returns Buffers, so binary values (a keystore, a
DER certificate) pass through untouched. Errors are TemplateErrors that name the template and the
position (line:column, as Go counts them), never a value.
*/
import { parseTemplate, renderTemplate as renderBytes, TemplateError, type Limits, type TemplateData } from '../template/index.ts';

export { TemplateError };

/** Renders `template` (named `name` in errors) with `values` (key to bytes) as the dot. */
export function renderTemplateBytes(name: string, template: string, values: TemplateData, limits?: Partial<Limits>): Buffer {
  return renderBytes(name, template, values, limits);
}

/** Checks that a template parses (syntax, functions, variables), without rendering it. */
export function checkTemplate(name: string, template: string): void {
  parseTemplate(name, template);
}

/**
Renders with text values and returns text (UTF-8): the original entry point, kept for callers that
only have strings. Binary data needs renderTemplateBytes.
*/
export function renderTemplate(name: string, template: string, values: Readonly<Record<string, string>>): string {
  const data = new Map(Object.entries(values).map(([key, value]) => [key, Buffer.from(value, 'utf8')]));
  return renderBytes(name, template, data).toString('utf8');
}
