/**
Go's encoding/base64 (StdEncoding), encoding/json (Marshal, MarshalIndent, Unmarshal into
interface{}) and the sigs.k8s.io/yaml + yaml.v2 conversions ESO's toYaml and fromYaml use, over the
engine's values. Strings must be valid UTF-8 where Go would silently replace bytes with U+FFFD: this
engine refuses instead, so that no secret is ever corrupted without a word.
*/
import { parseDocument, isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';
import { decodeRune, fromText, isLetter, isDigit, runeError, toText } from './bytes.ts';
import { FuncError } from './errors.ts';
import { formatFloat } from './fmt.ts';
import { anyList, anyMap, compareBytes, GoList, GoMap, type GoValue } from './values.ts';

// ---- base64 ----

const b64Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const b64Decode = new Int16Array(256).fill(-1);
for (let i = 0; i < b64Alphabet.length; i++) b64Decode[b64Alphabet.charCodeAt(i)] = i;

export class CorruptInputError extends Error {
  constructor(offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

/** base64.StdEncoding.DecodeString: the decoded bytes, or CorruptInputError (with the bytes decoded so far). */
export function base64Decode(src: string): string {
  let out = '';
  let si = 0;
  const isNewline = (c: number): boolean => c === 0x0a || c === 0x0d;
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let trailingError: number | undefined;
    for (let j = 0; j < 4; j++) {
      if (src.length === si) {
        if (j === 0) return out;
        throw new CorruptInputError(si - j);
      }
      const ch = src.charCodeAt(si);
      si++;
      const v = b64Decode[ch] ?? -1;
      if (v !== -1) {
        dbuf[j] = v;
        continue;
      }
      if (isNewline(ch)) {
        j--;
        continue;
      }
      if (ch !== 0x3d) throw new CorruptInputError(si - 1);
      if (j === 0 || j === 1) throw new CorruptInputError(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(src.charCodeAt(si))) si++;
        if (si === src.length) throw new CorruptInputError(src.length);
        if (src.charCodeAt(si) !== 0x3d) throw new CorruptInputError(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src.charCodeAt(si))) si++;
      if (si < src.length) trailingError = si;
      dlen = j;
      break;
    }
    const val = ((dbuf[0] ?? 0) << 18) | ((dbuf[1] ?? 0) << 12) | ((dbuf[2] ?? 0) << 6) | (dbuf[3] ?? 0);
    const bytes = String.fromCharCode((val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff);
    out += bytes.slice(0, dlen - 1);
    if (trailingError !== undefined) throw new CorruptInputError(trailingError);
  }
  return out;
}

export function base64Encode(binary: string): string {
  return Buffer.from(binary, 'latin1').toString('base64');
}

// ---- JSON ----

/** Bytes as text for a function that needs text; refuses bytes that are not UTF-8. */
export function requireText(binary: string, fn: string): string {
  const text = toText(binary);
  if (text === undefined) throw new FuncError(`${fn} needs UTF-8 text but the value has other bytes (b64enc passes binary data through)`);
  return text;
}

const jsonHex = '0123456789abcdef';

function jsonString(s: string, escapeHTML: boolean, fn: string): string {
  requireText(s, fn);
  let out = '"';
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      const ch = s[i] ?? '';
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (c === 0x08) out += '\\b';
      else if (c === 0x0c) out += '\\f';
      else if (c === 0x0a) out += '\\n';
      else if (c === 0x0d) out += '\\r';
      else if (c === 0x09) out += '\\t';
      else if (c < 0x20 || (escapeHTML && (ch === '<' || ch === '>' || ch === '&'))) out += '\\u00' + (jsonHex[c >> 4] ?? '') + (jsonHex[c & 0xf] ?? '');
      else out += ch;
      i++;
      continue;
    }
    const [r, w] = decodeRune(s, i);
    if (r === 0x2028 || r === 0x2029) out += '\\u202' + (r === 0x2028 ? '8' : '9');
    else out += s.slice(i, i + w);
    i += w;
  }
  return out + '"';
}

/** encoding/json's float format: %f, or %e between 1e-6 and 1e21 exclusive, with e-07 as e-7. */
export function jsonFloat(v: number): string {
  if (!Number.isFinite(v)) throw new FuncError('json: unsupported value');
  if (Object.is(v, -0)) return '-0';
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    return formatFloat(v, 'e', -1).replace(/e([-+])0(\d)$/, 'e$1$2');
  }
  return formatFloat(v, 'f', -1);
}

export interface JsonOptions {
  readonly escapeHTML: boolean;
  readonly indent: string;
  readonly fn: string;
  readonly meter: (n: number) => void;
}

/** json.Marshal / MarshalIndent of a value. Throws FuncError where Go's Marshal returns an error. */
export function jsonMarshal(v: GoValue, options: JsonOptions, depth = 0, prefix = ''): string {
  options.meter(1);
  if (depth > maxNesting) throw new FuncError(`${options.fn}: the value is nested more than ${maxNesting} levels deep`);
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return jsonString(v, options.escapeHTML, options.fn);
    case 'bigint':
      return v.toString();
    case 'number':
      return jsonFloat(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  const inner = prefix + options.indent;
  const nl = options.indent ? '\n' : '';
  if (v instanceof GoList) {
    if (v.items.length === 0) return '[]';
    const items = v.items.map((item) => (options.indent ? inner : '') + jsonMarshal(item, options, depth + 1, inner));
    return '[' + nl + items.join(',' + nl) + nl + (options.indent ? prefix : '') + ']';
  }
  if (v.entries.size === 0) return '{}';
  const entries = v.sortedKeys().map((key) => {
    const value = v.entries.get(key) ?? null;
    return (options.indent ? inner : '') + jsonString(key, options.escapeHTML, options.fn) + (options.indent ? ': ' : ':') + jsonMarshal(value, options, depth + 1, inner);
  });
  return '{' + nl + entries.join(',' + nl) + nl + (options.indent ? prefix : '') + '}';
}

/** Go's json depth limit is 10000; this engine's stack allows less. */
export const maxNesting = 1000;

/** A parsed JSON value (from JSON.parse) as Go's json.Unmarshal into interface{} builds it. */
export function fromJsonValue(v: unknown, meter: (n: number) => void, depth = 0): GoValue {
  meter(1);
  if (depth > maxNesting) throw new FuncError(`the JSON is nested more than ${maxNesting} levels deep`);
  if (v === null) return null;
  switch (typeof v) {
    case 'string':
      return fromText(v);
    case 'number':
      return v;
    case 'boolean':
      return v;
    case 'object':
      if (Array.isArray(v)) return anyList(v.map((item) => fromJsonValue(item, meter, depth + 1)));
      return anyMap(new Map(Object.entries(v as Record<string, unknown>).map(([k, item]) => [fromText(k), fromJsonValue(item, meter, depth + 1)])));
    case "bigint":
    case "function":
    case "symbol":
    case "undefined":
    default:
      return null;
  }
}

/** json.Unmarshal(text, &interface{}): undefined when Go would fail. */
export function jsonUnmarshal(text: string, meter: (n: number) => void): GoValue | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!finiteNumbers(parsed, 0)) return undefined;
  return fromJsonValue(parsed, meter);
}

function finiteNumbers(v: unknown, depth: number): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (depth > maxNesting) return true;
  if (Array.isArray(v)) return v.every((x) => finiteNumbers(x, depth + 1));
  if (v !== null && typeof v === 'object') return Object.values(v as Record<string, unknown>).every((x) => finiteNumbers(x, depth + 1));
  return true;
}

// ---- YAML (sigs.k8s.io/yaml on top of yaml.v2) ----

/** The values yaml.v2 holds after reading JSON: numbers keep their JSON spelling's type. */
type YamlValue = { kind: 'str'; v: string } | { kind: 'int'; v: string } | { kind: 'float'; v: number } | { kind: 'bool'; v: boolean } | { kind: 'null' } | { kind: 'seq'; v: YamlValue[] } | { kind: 'map'; v: [string, YamlValue][] };

/** json.Marshal, then yaml.Unmarshal of the JSON: the tree toYaml then writes. */
function toYamlValue(v: GoValue, meter: (n: number) => void, depth = 0): YamlValue {
  meter(1);
  if (depth > maxNesting) throw new FuncError(`toYaml: the value is nested more than ${maxNesting} levels deep`);
  if (v === null) return { kind: 'null' };
  switch (typeof v) {
    case 'string':
      return { kind: 'str', v: fromText(requireText(v, 'toYaml')) };
    case 'bigint':
      return { kind: 'int', v: v.toString() };
    case 'number': {
      const json = jsonFloat(v);
      if (/^-?\d+$/.test(json)) {
        const n = BigInt(json);
        if (n >= -(1n << 63n) && n < 1n << 64n) return { kind: 'int', v: n.toString() };
        return { kind: 'float', v: Number(json) };
      }
      return { kind: 'float', v: Number(json) };
    }
    case 'boolean':
      return { kind: 'bool', v };
    case 'object':
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  if (v instanceof GoList) return { kind: 'seq', v: v.items.map((item) => toYamlValue(item, meter, depth + 1)) };
  const keys = [...v.entries.keys()].map((k) => fromText(requireText(k, 'toYaml')));
  keys.sort(yamlKeyLess);
  return { kind: 'map', v: keys.map((k) => [k, toYamlValue(v.entries.get(k) ?? null, meter, depth + 1)]) };
}

function runesOf(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    const [r, w] = decodeRune(s, i);
    out.push(r);
    i += w;
  }
  return out;
}

/** yaml.v2's keyList.Less for two string keys: natural order, digits compared as numbers. */
function yamlKeyLess(a: string, b: string): number {
  const ar = runesOf(a);
  const br = runesOf(b);
  const less = (): boolean => {
    for (let i = 0; i < ar.length && i < br.length; i++) {
      const ai0 = ar[i] ?? 0;
      const bi0 = br[i] ?? 0;
      if (ai0 === bi0) continue;
      const al = isLetter(ai0);
      const bl = isLetter(bi0);
      if (al && bl) return ai0 < bi0;
      if (al || bl) return bl;
      let an = 0n;
      let bn = 0n;
      if (ai0 === 0x30 || bi0 === 0x30) {
        for (let j = i - 1; j >= 0 && isDigit(ar[j] ?? 0); j--) {
          if (ar[j] !== 0x30) {
            an = 1n;
            bn = 1n;
            break;
          }
        }
      }
      let ai = i;
      for (; ai < ar.length && isDigit(ar[ai] ?? 0); ai++) an = an * 10n + BigInt((ar[ai] ?? 0x30) - 0x30);
      let bi = i;
      for (; bi < br.length && isDigit(br[bi] ?? 0); bi++) bn = bn * 10n + BigInt((br[bi] ?? 0x30) - 0x30);
      if (an !== bn) return an < bn;
      if (ai !== bi) return ai < bi;
      return ai0 < bi0;
    }
    return ar.length < br.length;
  };
  if (less()) return -1;
  return a === b ? 0 : 1;
}

const yamlFloatPattern = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const yamlSpecial = new Map<string, 'bool' | 'null' | 'float' | 'merge'>([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((s) => [s, 'bool'] as const),
  ...['', '~', 'null', 'Null', 'NULL'].map((s) => [s, 'null'] as const),
  ...['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF'].map((s) => [s, 'float'] as const),
  ['<<', 'merge'],
]);

/** yaml.v2's resolve("", s): the tag a plain scalar gets, and its value. */
function resolvePlain(s: string): YamlValue | { kind: 'merge' } | { kind: 'timestamp'; v: string } {
  const special = yamlSpecial.get(s);
  const first = s[0] ?? '';
  const hint = s === '' ? 'N' : /[+-]/.test(first) ? 'S' : /\d/.test(first) ? 'D' : /[yYnNtTfFoO~]/.test(first) ? 'M' : first === '.' ? '.' : '';
  if (hint !== '') {
    if (special === 'bool') return { kind: 'bool', v: /^(y|yes|true|on)$/i.test(s) };
    if (special === 'null') return { kind: 'null' };
    if (special === 'float') return { kind: 'float', v: s.includes('nan') || s.includes('NaN') || s.includes('NAN') ? NaN : s.startsWith('-') ? -Infinity : Infinity };
    if (special === 'merge') return { kind: 'merge' };
    if (hint === '.') {
      if (yamlFloatPattern.test(s)) return { kind: 'float', v: Number(s) };
    } else if (hint === 'D' || hint === 'S') {
      if (/^\d{4}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$/.test(s)) return { kind: 'timestamp', v: s };
      const plain = s.replaceAll('_', '');
      const int = goParseInt(plain);
      if (int !== undefined) return { kind: 'int', v: int.toString() };
      if (yamlFloatPattern.test(plain)) return { kind: 'float', v: Number(plain) };
      const bin = /^(-?)0b([01]+)$/.exec(plain);
      if (bin) return { kind: 'int', v: ((bin[1] ?? '') === '-' ? -BigInt('0b' + (bin[2] ?? '')) : BigInt('0b' + (bin[2] ?? ''))).toString() };
    }
  }
  return { kind: 'str', v: s };
}

function goParseInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO]?[0-7]*|[1-9][0-9]*|0[bB][01]+)$/.exec(s);
  if (!m) return undefined;
  let body = m[2] ?? '';
  if (/^0[0-7]+$/.test(body)) body = '0o' + body.slice(1);
  if (/^0[oO]$/.test(body)) return undefined;
  const v = BigInt(body) * (m[1] === '-' ? -1n : 1n);
  if (v < -(1n << 63n) || v >= 1n << 64n) return undefined;
  return v;
}

function isBase60Float(s: string): boolean {
  return /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s);
}

// yaml.v2 emitter character classes, on UTF-8 bytes.
function isBreakAt(b: string, i: number): boolean {
  const c = b.charCodeAt(i);
  return c === 0x0d || c === 0x0a || (c === 0xc2 && b.charCodeAt(i + 1) === 0x85) || (c === 0xe2 && b.charCodeAt(i + 1) === 0x80 && (b.charCodeAt(i + 2) === 0xa8 || b.charCodeAt(i + 2) === 0xa9));
}
function isSpaceAt(b: string, i: number): boolean {
  return b.charCodeAt(i) === 0x20;
}
function isBlankAt(b: string, i: number): boolean {
  const c = b.charCodeAt(i);
  return c === 0x20 || c === 0x09;
}
function isBlankzAt(b: string, i: number): boolean {
  return isBlankAt(b, i) || isBreakAt(b, i) || i >= b.length || b.charCodeAt(i) === 0;
}
function isPrintableAt(b: string, i: number): boolean {
  const c = b.charCodeAt(i);
  const c1 = b.charCodeAt(i + 1);
  const c2 = b.charCodeAt(i + 2);
  return c === 0x0a || (c >= 0x20 && c <= 0x7e) || (c === 0xc2 && c1 >= 0xa0) || (c > 0xc2 && c < 0xed) || (c === 0xed && c1 < 0xa0) || c === 0xee || (c === 0xef && !(c1 === 0xbb && c2 === 0xbf) && !(c1 === 0xbf && (c2 === 0xbe || c2 === 0xbf)));
}
function widthAt(b: string, i: number): number {
  const c = b.charCodeAt(i);
  return (c & 0x80) === 0 ? 1 : (c & 0xe0) === 0xc0 ? 2 : (c & 0xf0) === 0xe0 ? 3 : (c & 0xf8) === 0xf0 ? 4 : 1;
}

interface ScalarAnalysis {
  multiline: boolean;
  flowPlain: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
  block: boolean;
}

function analyzeScalar(value: string): ScalarAnalysis {
  if (value.length === 0) return { multiline: false, flowPlain: false, blockPlain: true, singleQuoted: true, block: false };
  let blockIndicators = false;
  let flowIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  let previousBreak = false;
  if (value.startsWith('---') || value.startsWith('...')) {
    blockIndicators = true;
    flowIndicators = true;
  }
  let precededByWhitespace = true;
  for (let i = 0; i < value.length; ) {
    const w = widthAt(value, i);
    const followedByWhitespace = i + w >= value.length || isBlankAt(value, i + w);
    const ch = value[i] ?? '';
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) {
        flowIndicators = true;
        blockIndicators = true;
      } else if (ch === '?' || ch === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      } else if (ch === '-' && followedByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    } else if (',?[]{}'.includes(ch)) {
      flowIndicators = true;
    } else if (ch === ':') {
      flowIndicators = true;
      if (followedByWhitespace) blockIndicators = true;
    } else if (ch === '#' && precededByWhitespace) {
      flowIndicators = true;
      blockIndicators = true;
    }
    if (!isPrintableAt(value, i)) special = true;
    if (isSpaceAt(value, i)) {
      if (i === 0) leadingSpace = true;
      if (i + w === value.length) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreakAt(value, i)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i + w === value.length) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankzAt(value, i);
    i += w;
  }
  const a: ScalarAnalysis = { multiline: lineBreaks, flowPlain: true, blockPlain: true, singleQuoted: true, block: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) a.flowPlain = a.blockPlain = false;
  if (trailingSpace) a.block = false;
  if (breakSpace) a.flowPlain = a.blockPlain = a.singleQuoted = false;
  if (spaceBreak || special) a.flowPlain = a.blockPlain = a.singleQuoted = a.block = false;
  if (lineBreaks) a.flowPlain = a.blockPlain = false;
  if (flowIndicators) a.flowPlain = false;
  if (blockIndicators) a.blockPlain = false;
  return a;
}

type ScalarStyle = 'plain' | 'single' | 'double' | 'literal';

/** yaml.v2's emitter settings: two-space indentation, lines folded after 80 columns. */
const bestIndent = 2;
const bestWidth = 80;

/** A port of the parts of yaml.v2's emitter (libyaml) that block mappings, sequences and scalars use. */
class YamlEmitter {
  out = '';
  column = 0;
  indent = -1;
  indents: number[] = [];
  whitespace = true;
  indention = true;
  readonly meter: (n: number) => void;

  constructor(meter: (n: number) => void) {
    this.meter = meter;
  }

  put(ch: string): void {
    this.out += ch;
    this.column++;
  }

  putBreak(): void {
    this.out += '\n';
    this.column = 0;
  }

  /** Writes the character at value[i] (one column), returns the next index. */
  writeChar(value: string, i: number): number {
    const w = widthAt(value, i);
    this.out += value.slice(i, i + w);
    this.column++;
    return i + w;
  }

  writeBreak(value: string, i: number): number {
    if (value[i] === '\n') {
      this.putBreak();
      return i + 1;
    }
    const next = this.writeChar(value, i);
    this.column = 0;
    return next;
  }

  increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent < 0) this.indent = flow ? bestIndent : 0;
    else if (!indentless) this.indent += bestIndent;
  }

  popIndent(): void {
    this.indent = this.indents.pop() ?? -1;
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  writeIndicator(indicator: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const ch of indicator) this.put(ch);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  emitNode(v: YamlValue, ctx: { root: boolean; sequence: boolean; mapping: boolean; simpleKey: boolean }, depth: number): void {
    this.meter(1);
    switch (v.kind) {
      case 'seq':
        if (v.v.length === 0) {
          this.emitScalarText('[]', 'plain', ctx.simpleKey, true);
          return;
        }
        this.increaseIndent(false, ctx.mapping && !this.indention);
        for (const item of v.v) {
          this.writeIndent();
          this.writeIndicator('-', true, false, true);
          this.emitNode(item, { root: false, sequence: true, mapping: false, simpleKey: false }, depth + 1);
        }
        this.popIndent();
        return;
      case 'map':
        if (v.v.length === 0) {
          this.emitScalarText('{}', 'plain', ctx.simpleKey, true);
          return;
        }
        this.increaseIndent(false, false);
        for (const [key, value] of v.v) {
          this.writeIndent();
          const keyNode: YamlValue = { kind: 'str', v: key };
          const analysis = analyzeScalar(key);
          if (!analysis.multiline && key.length <= 128) {
            this.emitNode(keyNode, { root: false, sequence: false, mapping: true, simpleKey: true }, depth + 1);
            this.writeIndicator(':', false, false, false);
          } else {
            this.writeIndicator('?', true, false, true);
            this.emitNode(keyNode, { root: false, sequence: false, mapping: true, simpleKey: false }, depth + 1);
            this.writeIndent();
            this.writeIndicator(':', true, false, true);
          }
          this.emitNode(value, { root: false, sequence: false, mapping: true, simpleKey: false }, depth + 1);
        }
        this.popIndent();
        return;
      case 'null':
        this.emitScalarText('null', 'plain', ctx.simpleKey, false);
        return;
      case 'bool':
        this.emitScalarText(v.v ? 'true' : 'false', 'plain', ctx.simpleKey, false);
        return;
      case 'int':
        this.emitScalarText(v.v, 'plain', ctx.simpleKey, false);
        return;
      case 'float': {
        let s = formatFloat(v.v, 'g', -1);
        if (s === '+Inf') s = '.inf';
        else if (s === '-Inf') s = '-.inf';
        else if (s === 'NaN') s = '.nan';
        this.emitScalarText(s, 'plain', ctx.simpleKey, false);
        return;
      }
      case 'str': {
        const s = v.v;
        const resolved = resolvePlain(s);
        const canUsePlain = resolved.kind === 'str' && !isBase60Float(s);
        const style: ScalarStyle = s.includes('\n') ? 'literal' : canUsePlain ? 'plain' : 'double';
        this.emitScalarText(s, style, ctx.simpleKey, false);
      }
    }
  }

  emitScalarText(value: string, requested: ScalarStyle, simpleKey: boolean, flowCollection: boolean): void {
    if (flowCollection) {
      // An empty flow mapping or sequence: "{" and "}" as indicators.
      this.writeIndicator(value[0] ?? '', true, true, false);
      this.increaseIndent(true, false);
      this.popIndent();
      this.writeIndicator(value[1] ?? '', false, false, false);
      return;
    }
    const a = analyzeScalar(value);
    let style = requested;
    if (simpleKey && a.multiline) style = 'double';
    if (style === 'plain') {
      if (!a.blockPlain) style = 'single';
      if (value.length === 0 && simpleKey) style = 'single';
    }
    if (style === 'single' && !a.singleQuoted) style = 'double';
    if (style === 'literal' && (!a.block || simpleKey)) style = 'double';
    this.increaseIndent(true, false);
    switch (style) {
      case 'plain':
        this.writePlain(value, !simpleKey);
        break;
      case 'single':
        this.writeSingle(value, !simpleKey);
        break;
      case 'double':
        this.writeDouble(value, !simpleKey);
        break;
      case 'literal':
        this.writeLiteral(value);
        break;
    }
    this.popIndent();
  }

  writePlain(value: string, allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ');
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < value.length; ) {
      if (isSpaceAt(value, i)) {
        if (allowBreaks && !spaces && this.column > bestWidth && !isSpaceAt(value, i + 1)) {
          this.writeIndent();
          i += widthAt(value, i);
        } else i = this.writeChar(value, i);
        spaces = true;
      } else if (isBreakAt(value, i)) {
        if (!breaks && value[i] === '\n') this.putBreak();
        i = this.writeBreak(value, i);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        i = this.writeChar(value, i);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  writeSingle(value: string, allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < value.length; ) {
      if (isSpaceAt(value, i)) {
        if (allowBreaks && !spaces && this.column > bestWidth && i > 0 && i < value.length - 1 && !isSpaceAt(value, i + 1)) {
          this.writeIndent();
          i += widthAt(value, i);
        } else i = this.writeChar(value, i);
        spaces = true;
      } else if (isBreakAt(value, i)) {
        if (!breaks && value[i] === '\n') this.putBreak();
        i = this.writeBreak(value, i);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (value[i] === "'") this.put("'");
        i = this.writeChar(value, i);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  writeDouble(value: string, allowBreaks: boolean): void {
    let spaces = false;
    this.writeIndicator('"', true, false, false);
    const hexUpper = '0123456789ABCDEF';
    for (let i = 0; i < value.length; ) {
      const c = value.charCodeAt(i);
      const isBom = c === 0xef && value.charCodeAt(i + 1) === 0xbb && value.charCodeAt(i + 2) === 0xbf;
      if (!isPrintableAt(value, i) || isBom || isBreakAt(value, i) || c === 0x22 || c === 0x5c) {
        const [r, w] = decodeRune(value, i);
        const rune = w === 1 && r === runeError ? c : r;
        i += w;
        this.put('\\');
        const simple: Record<number, string> = { 0: '0', 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r', 0x1b: 'e', 0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P' };
        const esc = simple[rune];
        if (esc !== undefined) this.put(esc);
        else {
          const [letter, n] = rune <= 0xff ? ['x', 2] : rune <= 0xffff ? ['u', 4] : ['U', 8];
          this.put(letter);
          for (let k = (n - 1) * 4; k >= 0; k -= 4) this.put(hexUpper[(rune >> k) & 0xf] ?? '0');
        }
        spaces = false;
      } else if (isSpaceAt(value, i)) {
        if (allowBreaks && !spaces && this.column > bestWidth && i > 0 && i < value.length - 1) {
          this.writeIndent();
          if (isSpaceAt(value, i + 1)) this.put('\\');
          i += widthAt(value, i);
        } else i = this.writeChar(value, i);
        spaces = true;
      } else {
        i = this.writeChar(value, i);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  writeLiteral(value: string): void {
    this.writeIndicator('|', true, false, false);
    if (isSpaceAt(value, 0) || isBreakAt(value, 0)) this.writeIndicator(String(bestIndent), false, false, false);
    let chomp = '';
    if (value.length === 0) chomp = '-';
    else {
      let i = value.length - 1;
      while ((value.charCodeAt(i) & 0xc0) === 0x80) i--;
      if (!isBreakAt(value, i)) chomp = '-';
      else if (i === 0) chomp = '+';
      else {
        i--;
        while ((value.charCodeAt(i) & 0xc0) === 0x80) i--;
        if (isBreakAt(value, i)) chomp = '+';
      }
    }
    if (chomp) this.writeIndicator(chomp, false, false, false);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    let breaks = true;
    for (let i = 0; i < value.length; ) {
      if (isBreakAt(value, i)) {
        i = this.writeBreak(value, i);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        i = this.writeChar(value, i);
        this.indention = false;
        breaks = false;
      }
    }
  }
}

/** ESO's toYaml: sigs.k8s.io/yaml.Marshal without the final newline; "" when Go's Marshal fails. */
export function toYaml(v: GoValue, meter: (n: number) => void): string {
  let tree: YamlValue;
  try {
    tree = toYamlValue(v, meter);
  } catch (error) {
    if (error instanceof FuncError && error.message === 'json: unsupported value') return '';
    throw error;
  }
  const emitter = new YamlEmitter(meter);
  emitter.emitNode(tree, { root: true, sequence: false, mapping: false, simpleKey: false }, 0);
  emitter.writeIndent();
  return emitter.out.replace(/\n$/, '');
}

// ---- fromYaml ----

type JsonLike = null | boolean | number | string | JsonLike[] | Map<string, JsonLike>;

class YamlConversionError extends Error {}

function yamlNodeToValue(node: YamlNode | null | undefined, doc: Document, meter: (n: number) => void, depth: number): JsonLike {
  meter(1);
  if (depth > maxNesting) throw new YamlConversionError('the YAML is nested too deeply');
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return yamlNodeToValue(node.resolve(doc) ?? null, doc, meter, depth + 1);
  if (isScalar(node)) {
    const source = typeof node.value === 'string' ? node.value : '';
    const tag = node.tag;
    if (node.type === 'PLAIN' && (tag === undefined || tag === '!')) {
      const r = resolvePlain(fromText(source));
      switch (r.kind) {
        case 'str':
        case 'timestamp':
          return r.v;
        case 'int':
          return Number(r.v);
        case 'float':
          if (!Number.isFinite(r.v)) throw new YamlConversionError('json: unsupported value');
          return r.v;
        case 'bool':
          return r.v;
        case 'null':
          return null;
        case 'merge':
          return '<<';
        case "map":
        case "seq":
        default:
          return null;
      }
    }
    if (tag === 'tag:yaml.org,2002:int' || tag === 'tag:yaml.org,2002:float') {
      const n = Number(source);
      if (!Number.isFinite(n)) throw new YamlConversionError('json: unsupported value');
      return n;
    }
    if (tag === 'tag:yaml.org,2002:bool') return /^(y|yes|true|on)$/i.test(source);
    if (tag === 'tag:yaml.org,2002:null') return null;
    return fromText(source);
  }
  if (isSeq(node)) return node.items.map((item) => yamlNodeToValue(item as YamlNode, doc, meter, depth + 1));
  if (isMap(node)) {
    const out = new Map<string, JsonLike>();
    const merges: JsonLike[] = [];
    for (const pair of node.items) {
      const key = yamlNodeToValue(pair.key as YamlNode, doc, meter, depth + 1);
      const value = yamlNodeToValue(pair.value as YamlNode, doc, meter, depth + 1);
      if (key === '<<' && isScalar(pair.key) && pair.key.type === 'PLAIN') {
        merges.push(value);
        continue;
      }
      out.set(yamlKeyString(key), value);
    }
    for (const merge of merges.reverse()) {
      const sources = Array.isArray(merge) ? merge : [merge];
      for (const source of sources) {
        if (!(source instanceof Map)) throw new YamlConversionError('map merge requires map or sequence of maps as the value');
        for (const [k, v] of source) if (!out.has(k)) out.set(k, v);
      }
    }
    return out;
  }
  return null;
}

function yamlKeyString(key: JsonLike): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  if (typeof key === 'number') return Number.isInteger(key) ? String(key) : formatFloat(Math.fround(key), 'g', -1);
  throw new YamlConversionError('unsupported map key');
}

function jsonLikeToGo(v: JsonLike): GoValue {
  if (v instanceof Map) return anyMap(new Map([...v].map(([k, x]) => [k, jsonLikeToGo(x)])));
  if (Array.isArray(v)) return anyList(v.map(jsonLikeToGo));
  return v;
}

/** ESO's fromYaml: a map[string]interface{}; when the YAML is no mapping, a map with its "Error". */
export function fromYaml(binary: string, meter: (n: number) => void): GoMap {
  const text = requireText(binary, 'fromYaml');
  const error = (message: string): GoMap => anyMap(new Map([['Error', fromText(message)]]));
  let doc: Document;
  try {
    doc = parseDocument(text, { version: '1.1', schema: 'failsafe', uniqueKeys: false, merge: false, strict: false, prettyErrors: false });
  } catch {
    return error('error converting YAML to JSON: yaml: invalid document');
  }
  if (doc.errors.length > 0) return error('error converting YAML to JSON: yaml: ' + (doc.errors[0]?.code ?? 'invalid document').toLowerCase().replaceAll('_', ' '));
  let value: JsonLike;
  try {
    value = yamlNodeToValue(doc.contents, doc, meter, 0);
  } catch (e) {
    if (e instanceof YamlConversionError) return error('error converting YAML to JSON: ' + e.message);
    throw e;
  }
  if (value === null) return anyMap(new Map());
  if (!(value instanceof Map)) {
    const kind = Array.isArray(value) ? 'array' : typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'bool';
    return error(`error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`);
  }
  const out = jsonLikeToGo(value);
  return out instanceof GoMap ? out : anyMap(new Map());
}

export { compareBytes };
