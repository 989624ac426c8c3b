/**
Turns a zod schema into a Kubernetes structural OpenAPI v3 schema. zod's JSON Schema output is
close, but the API server rejects some of what it emits (see the rules in
k8s.io/apiextensions-apiserver validation.go): this post-processor removes what is not allowed,
and refuses what cannot be expressed, so a bad schema fails generation rather than admission.
*/
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

const forbiddenKeys = ['$ref', '$defs', 'definitions', 'patternProperties', 'dependencies', 'additionalItems', 'uniqueItems', 'id', 'const'];
const maxSafeInteger = Number.MAX_SAFE_INTEGER;

export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'throw',
    reused: 'inline',
    cycles: 'throw',
  }) as JsonSchema;
  delete json['$schema'];
  return clean(json, '', true);
}

/** `isField`: a property or the root, which must be described; list items and map values need not be. */
function clean(node: JsonSchema, where: string, isField: boolean): JsonSchema {
  for (const key of forbiddenKeys) {
    if (key in node) throw new Error(`${where || '(root)'}: "${key}" is not allowed in a structural schema`);
  }
  for (const key of ['anyOf', 'oneOf', 'allOf', 'not']) {
    if (key in node) throw new Error(`${where || '(root)'}: "${key}" cannot be generated; express it with a CEL rule`);
  }
  if (typeof node['type'] !== 'string' && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`${where || '(root)'}: every node needs a single type`);
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'propertyNames') continue; // not part of the Kubernetes schema subset
    if (key === 'additionalProperties' && (value === false || 'properties' in node)) continue;
    if ((key === 'minimum' && value === -maxSafeInteger) || (key === 'maximum' && value === maxSafeInteger)) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [name, clean(child, `${where}.${name}`, true)]),
      );
    } else if (key === 'items' || key === 'additionalProperties') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new Error(`${where}: ${key} must be a single schema`);
      }
      out[key] = clean(value as JsonSchema, `${where}[]`, false);
    } else {
      out[key] = value;
    }
  }
  if (isField && (typeof out['description'] !== 'string' || out['description'].length === 0)) {
    throw new Error(`${where || '(root)'}: every field needs a description (it is what kubectl explain shows)`);
  }
  return out;
}
