/**
The values of the Helm chart as helm-docs reads them: a key preceded by a `# --` comment is one
documented value (with everything below it); a key without one must be a section whose keys are
all documented. docs/install.md lists every documented value in its values table.
*/
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isNode, isScalar, parseDocument, type YAMLMap } from 'yaml';

export const chartRoot = join(import.meta.dirname, '../../charts/thalassa-secrets-operator');

export interface ChartValue {
  /** Dotted path, e.g. image.repository. */
  readonly path: string;
  readonly description: string;
  readonly defaultValue: unknown;
}

export interface ChartValues {
  readonly documented: readonly ChartValue[];
  /** Paths of values with no `# --` comment. */
  readonly undocumented: readonly string[];
}

export function readChartValues(text = readFileSync(join(chartRoot, 'values.yaml'), 'utf8')): ChartValues {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw new Error(`values.yaml: ${document.errors.map((e) => e.message).join('; ')}`);
  const documented: ChartValue[] = [];
  const undocumented: string[] = [];
  const walk = (map: YAMLMap, prefix: string): void => {
    map.items.forEach((pair, index) => {
      if (!isScalar(pair.key)) throw new Error(`values.yaml: a key under ${prefix || 'the root'} is not a scalar`);
      const path = `${prefix}${String(pair.key.value)}`;
      // The comment before a map's first key is kept on the map by the parser.
      const comment = pair.key.commentBefore ?? (index === 0 ? map.commentBefore : undefined);
      const description = docComment(comment);
      if (description !== undefined) {
        const defaultValue: unknown = isNode(pair.value) ? pair.value.toJSON() : pair.value;
        documented.push({ path, description, defaultValue });
      } else if (isMap(pair.value) && pair.value.items.length > 0) {
        walk(pair.value, `${path}.`);
      } else {
        undocumented.push(path);
      }
    });
  };
  if (!isMap(document.contents)) throw new Error('values.yaml: not a map');
  walk(document.contents, '');
  return { documented, undocumented };
}

/** The `-- ...` paragraph at the end of a comment, or undefined. */
function docComment(comment: string | null | undefined): string | undefined {
  if (!comment) return undefined;
  const lines = comment.split('\n').map((line) => line.trim());
  const start = lines.findLastIndex((line) => line.startsWith('-- '));
  if (start === -1) return undefined;
  return lines
    .slice(start)
    .join(' ')
    .slice(3)
    .trim();
}

/** How docs/install.md writes a default: JSON in backticks. */
export function formatDefault(value: unknown): string {
  return `\`${JSON.stringify(value ?? null)}\``;
}
