/**
The values a template computes with, modelled on the Go types ESO's engine sees:

| Go                      | here                                   |
| ----------------------- | -------------------------------------- |
| string                  | a binary string (one char per byte)    |
| int                     | bigint                                 |
| float64                 | number                                 |
| bool                    | boolean                                |
| nil / no value          | null                                   |
| []interface{}, []string | GoList (elem 'any' or 'string')        |
| map[string]interface{}, map[string]string | GoMap (elem 'any' or 'string') |

Maps are JavaScript Maps: only their own entries exist, there is no prototype to reach.
*/
export type GoValue = string | bigint | number | boolean | null | GoList | GoMap;

export type ElemType = 'any' | 'string';

export class GoList {
  readonly elem: ElemType;
  readonly items: readonly GoValue[];
  constructor(elem: ElemType, items: readonly GoValue[]) {
    this.elem = elem;
    this.items = items;
  }
}

export class GoMap {
  readonly elem: ElemType;
  readonly entries: ReadonlyMap<string, GoValue>;
  constructor(elem: ElemType, entries: ReadonlyMap<string, GoValue>) {
    this.elem = elem;
    this.entries = entries;
  }

  /** Keys in Go's sorted order (bytewise). */
  sortedKeys(): string[] {
    return [...this.entries.keys()].sort(compareBytes);
  }
}

export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The Go type name of a value, as Go's error messages print it. */
export function typeName(v: GoValue): string {
  if (v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case "function":
    case "object":
    case "symbol":
    case "undefined":
    default:
      if (v instanceof GoList) return v.elem === 'string' ? '[]string' : '[]interface {}';
      return v.elem === 'string' ? 'map[string]string' : 'map[string]interface {}';
  }
}

/** Go's template truth (text/template isTrue): false, 0, a nil pointer or interface, an empty string, list or map. */
export function isTrue(v: GoValue): boolean {
  if (v === null) return false;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
    case 'boolean':
      return v;
    case "function":
    case "object":
    case "symbol":
    case "undefined":
    default:
      return v instanceof GoList ? v.items.length > 0 : v.entries.size > 0;
  }
}

export function stringList(items: readonly string[]): GoList {
  return new GoList('string', items);
}

export function anyList(items: readonly GoValue[]): GoList {
  return new GoList('any', items);
}

export function anyMap(entries: ReadonlyMap<string, GoValue>): GoMap {
  return new GoMap('any', entries);
}

export function stringMap(entries: ReadonlyMap<string, string>): GoMap {
  return new GoMap('string', entries);
}
