/**
The functions ESO's templates offer (Masterminds sprig v3 and ESO's own), each with the Go
signature the engine checks arguments against, and Helm's `required`. An explicit table: nothing
outside it can be called. Every function is covered by test/fixtures/template-vectors.json.
*/
import { createHash } from 'node:crypto';
import type * as Bcrypt from 'bcryptjs';
import { lazyModule } from './lazy-module.ts';
import { decodeRune, encodeRune, fromText, isLetter, isDigit, isSpace, runeError, toBytes, toText } from './bytes.ts';
import { filterCertChain, filterPEM, fullPemToPkcs12Pass, jwkPrivateKeyPem, jwkPublicKeyPem, pemToPkcs12Pass, pkcs12certPass, pkcs12keyPass } from './certificates.ts';
import { base64Decode, base64Encode, CorruptInputError, fromYaml, jsonMarshal, jsonUnmarshal, requireText, toYaml } from './encoding.ts';
import { FuncError } from './errors.ts';
import type { CallContext, FunctionTable, GoFunction, ParamType } from './exec.ts';
import { formatValue, quote, sprintf } from './fmt.ts';
import { anyList, anyMap, compareBytes, GoList, GoMap, stringList, stringMap, type GoValue } from './values.ts';

const S: ParamType = 'string';
const I: ParamType = 'int';
const A: ParamType = 'interface {}';
const M: ParamType = 'map[string]interface {}';

/** Loaded at the first htpasswd a template calls (src/template/lazy-module.ts). */
const bcrypt = lazyModule('bcryptjs') as typeof Bcrypt;

/** Cost in steps of the functions that do real work: bcrypt at cost 10 and PBKDF2. */
const bcryptSteps = 50_000;
const pkcs12Steps = 10_000;

function str(v: GoValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

function int(v: GoValue | undefined): bigint {
  return typeof v === 'bigint' ? v : 0n;
}

/** sprig's strval: a string as it is, anything else as %v. */
function strval(v: GoValue, ctx: CallContext): string {
  return typeof v === 'string' ? v : formatValue(v, ctx.meter);
}

/** sprig's empty. */
function empty(v: GoValue): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
      return v.length === 0;
    case 'bigint':
      return v === 0n;
    case 'number':
      return v === 0;
    case 'boolean':
      return !v;
    case "function":
    case "object":
    case "symbol":
    case "undefined":
    default:
      return v instanceof GoList ? v.items.length === 0 : v.entries.size === 0;
  }
}

/** sprig's strslice: a list's non-nil elements as strings, a nil as none, anything else as one. */
function strslice(v: GoValue, ctx: CallContext): string[] {
  if (v instanceof GoList) {
    if (v.elem === 'string') return v.items.map(str);
    return v.items.filter((x) => x !== null).map((x) => strval(x, ctx));
  }
  if (v === null) return [];
  return [strval(v, ctx)];
}

/** strings.Split, bytewise; an empty separator splits after each UTF-8 sequence. */
function split(s: string, sep: string): string[] {
  if (sep === '') {
    const out: string[] = [];
    for (let i = 0; i < s.length; ) {
      const [, w] = decodeRune(s, i);
      out.push(s.slice(i, i + w));
      i += w;
    }
    return out;
  }
  return s.split(sep);
}

/** Go's unicode.ToUpper/ToLower/ToTitle per rune (simple case mapping, one rune to one rune). */
function mapRunes(s: string, fn: string, mapping: (r: number) => number): string {
  requireText(s, fn);
  let out = '';
  for (let i = 0; i < s.length; ) {
    const [r, w] = decodeRune(s, i);
    out += encodeRune(mapping(r));
    i += w;
  }
  return out;
}

function simpleCase(r: number, to: 'upper' | 'lower'): number {
  if (r < 0x80) {
    if (to === 'upper' && r >= 0x61 && r <= 0x7a) return r - 32;
    if (to === 'lower' && r >= 0x41 && r <= 0x5a) return r + 32;
    return r;
  }
  if (r === 0x130 && to === 'lower') return 0x69;
  if (r === 0x131 && to === 'upper') return 0x49;
  const ch = String.fromCodePoint(r);
  const mapped = to === 'upper' ? ch.toUpperCase() : ch.toLowerCase();
  const cp = mapped.codePointAt(0);
  return cp !== undefined && String.fromCodePoint(cp) === mapped ? cp : r;
}

/** strings.Title: a letter after a separator becomes title case. */
function title(s: string): string {
  requireText(s, 'title');
  const isSeparator = (r: number): boolean => {
    if (r <= 0x7f) {
      if ((r >= 0x30 && r <= 0x39) || (r >= 0x61 && r <= 0x7a) || (r >= 0x41 && r <= 0x5a) || r === 0x5f) return false;
      return true;
    }
    if (isLetter(r) || isDigit(r)) return false;
    return isSpace(r);
  };
  let prev = 0x20;
  let out = '';
  for (let i = 0; i < s.length; ) {
    const [r, w] = decodeRune(s, i);
    out += encodeRune(isSeparator(prev) ? titleCase(r) : r);
    prev = r;
    i += w;
  }
  return out;
}

function titleCase(r: number): number {
  // Title case differs from upper case only for a few digraphs (e.g. U+01C6 → U+01C5).
  const digraphs: Record<number, number> = { 0x1c4: 0x1c5, 0x1c5: 0x1c5, 0x1c6: 0x1c5, 0x1c7: 0x1c8, 0x1c8: 0x1c8, 0x1c9: 0x1c8, 0x1ca: 0x1cb, 0x1cb: 0x1cb, 0x1cc: 0x1cb, 0x1f1: 0x1f2, 0x1f2: 0x1f2, 0x1f3: 0x1f2 };
  return digraphs[r] ?? simpleCase(r, 'upper');
}

/** strings.TrimSpace, bytewise: stops at the first rune that is no Unicode space (or no valid UTF-8). */
function trimSpace(s: string): string {
  let start = 0;
  while (start < s.length) {
    const [r, w] = decodeRune(s, start);
    if (w === 1 && r === runeError) break;
    if (!isSpace(r)) break;
    start += w;
  }
  let end = s.length;
  while (end > start) {
    let i = end - 1;
    while (i > start && (s.charCodeAt(i) & 0xc0) === 0x80 && end - i < 4) i--;
    const [r, w] = decodeRune(s, i);
    if (i + w !== end || (w === 1 && r === runeError) || !isSpace(r)) break;
    end = i;
  }
  return s.slice(start, end);
}

/** strings.Trim(s, cutset): runes of the cutset removed from both ends. */
function trimCutset(s: string, cutset: string): string {
  const set = new Set<number>();
  for (let i = 0; i < cutset.length; ) {
    const [r, w] = decodeRune(cutset, i);
    set.add(r);
    i += w;
  }
  let start = 0;
  while (start < s.length) {
    const [r, w] = decodeRune(s, start);
    if (!set.has(r)) break;
    start += w;
  }
  let end = s.length;
  while (end > start) {
    let i = end - 1;
    while (i > start && (s.charCodeAt(i) & 0xc0) === 0x80 && end - i < 4) i--;
    const [r, w] = decodeRune(s, i);
    if (i + w !== end) {
      if (!set.has(runeError)) break;
      end--;
      continue;
    }
    if (!set.has(r)) break;
    end = i;
  }
  return s.slice(start, end);
}

/** goutils' DeleteWhiteSpace: every Unicode space removed. */
function noSpace(s: string): string {
  requireText(s, 'nospace');
  return split(s, '')
    .filter((c) => !isSpace(decodeRune(c, 0)[0]))
    .join('');
}

function repeat(s: string, count: bigint, ctx: CallContext): string {
  if (count < 0n) throw new FuncError('strings: negative Repeat count');
  if (BigInt(s.length) * count > BigInt(ctx.limits.maxValueBytes)) throw new FuncError(`the result would be larger than ${ctx.limits.maxValueBytes} bytes`);
  return s.repeat(Number(count));
}

function hash(algorithm: string, s: string): string {
  return createHash(algorithm).update(toBytes(s)).digest('hex');
}

/** sprig's htpasswd: "user:" and a bcrypt hash ($2a$, cost 10), as golang.org/x/crypto/bcrypt makes it. */
function htpasswd(user: string, password: string, ctx: CallContext): string {
  if (user.includes(':')) return `invalid username: ${user}`;
  if (password.length > 72) return `${user}:failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes`;
  const text = toText(password);
  if (text === undefined) throw new FuncError('htpasswd needs a UTF-8 password (bcrypt here takes text)');
  ctx.meter(bcryptSteps);
  const hashed = bcrypt.hashSync(text, bcrypt.genSaltSync(10)).replace(/^\$2b\$/, '$2a$');
  return `${user}:${hashed}`;
}

function messageOf(warn: string, literal: boolean | undefined, fallback: string): string {
  // The message is the template's own text only when it is a literal; a value never is one.
  return literal ? (toText(warn) ?? fallback) : fallback;
}

function fn(params: readonly ParamType[], call: GoFunction['call'], variadic?: ParamType): GoFunction {
  return variadic === undefined ? { params, call } : { params, variadic, call };
}

const table = new Map<string, GoFunction>([
  // Strings
  ['trim', fn([S], ([s]) => trimSpace(str(s)))],
  ['upper', fn([S], ([s]) => mapRunes(str(s), 'upper', (r) => simpleCase(r, 'upper')))],
  ['lower', fn([S], ([s]) => mapRunes(str(s), 'lower', (r) => simpleCase(r, 'lower')))],
  ['title', fn([S], ([s]) => title(str(s)))],
  ['trimAll', fn([S, S], ([a, b]) => trimCutset(str(b), str(a)))],
  ['trimPrefix', fn([S, S], ([a, b]) => (str(b).startsWith(str(a)) ? str(b).slice(str(a).length) : str(b)))],
  ['trimSuffix', fn([S, S], ([a, b]) => (str(a) !== '' && str(b).endsWith(str(a)) ? str(b).slice(0, str(b).length - str(a).length) : str(b)))],
  ['nospace', fn([S], ([s]) => noSpace(str(s)))],
  ['repeat', fn([I, S], ([n, s], ctx) => repeat(str(s), int(n), ctx))],
  ['trunc', fn([I, S], ([c, s]) => truncate(int(c), str(s)))],
  ['contains', fn([S, S], ([sub, s]) => str(s).includes(str(sub)))],
  ['hasPrefix', fn([S, S], ([p, s]) => str(s).startsWith(str(p)))],
  ['hasSuffix', fn([S, S], ([p, s]) => str(s).endsWith(str(p)))],
  ['quote', fn([], (args, ctx) => args.filter((a) => a !== null).map((a) => quote(strval(a, ctx))).join(' '), A)],
  ['squote', fn([], (args, ctx) => args.filter((a) => a !== null).map((a) => `'${formatValue(a, ctx.meter)}'`).join(' '), A)],
  ['cat', fn([], (args, ctx) => sprintf(args.filter((a) => a !== null).map(() => '%v').join(' '), args.filter((a) => a !== null), ctx.meter), A)],
  ['indent', fn([I, S], ([n, s], ctx) => indent(int(n), str(s), ctx))],
  ['nindent', fn([I, S], ([n, s], ctx) => '\n' + indent(int(n), str(s), ctx))],
  ['replace', fn([S, S, S], ([from, to, s]) => replaceAll(str(s), str(from), str(to)))],
  ['toString', fn([A], ([v = null], ctx) => strval(v, ctx))],
  ['split', fn([S, S], ([sep, s]) => stringMap(new Map(split(str(s), str(sep)).map((part, i) => [`_${i}`, part]))))],
  ['splitList', fn([S, S], ([sep, s]) => stringList(split(str(s), str(sep))))],
  ['join', fn([S, A], ([sep, v = null], ctx) => strslice(v, ctx).join(str(sep)))],
  ['sortAlpha', fn([A], ([v = null], ctx) => stringList(v instanceof GoList ? strslice(v, ctx).sort(compareBytes) : [strval(v, ctx)]))],

  // Encoding and hashing
  ['b64enc', fn([S], ([s]) => base64Encode(str(s)))],
  [
    'b64dec',
    fn([S], ([s]) => {
      try {
        return base64Decode(str(s));
      } catch (error) {
        // sprig returns the error's text as the result, which would become the Secret's value:
        // failing keeps the last good Secret and says why (a deliberate difference, docs/templates.md).
        if (error instanceof CorruptInputError) throw new FuncError(error.message);
        throw error;
      }
    }),
  ],
  ['sha1sum', fn([S], ([s]) => hash('sha1', str(s)))],
  ['sha256sum', fn([S], ([s]) => hash('sha256', str(s)))],
  ['sha512sum', fn([S], ([s]) => hash('sha512', str(s)))],
  ['htpasswd', fn([S, S], ([u, p], ctx) => htpasswd(str(u), str(p), ctx))],

  // JSON and YAML
  ['toJson', fn([A], ([v = null], ctx) => marshalOrEmpty(v, ctx, { escapeHTML: true, indent: '', fn: 'toJson' }))],
  ['toPrettyJson', fn([A], ([v = null], ctx) => marshalOrEmpty(v, ctx, { escapeHTML: true, indent: '  ', fn: 'toPrettyJson' }))],
  ['toRawJson', fn([A], ([v = null], ctx) => jsonMarshal(v, { escapeHTML: false, indent: '', fn: 'toRawJson', meter: ctx.meter }))],
  ['fromJson', fn([S], ([s], ctx) => jsonUnmarshal(requireText(str(s), 'fromJson'), ctx.meter) ?? null)],
  ['toYaml', fn([A], ([v = null], ctx) => toYaml(v, ctx.meter))],
  ['fromYaml', fn([S], ([s], ctx) => fromYaml(str(s), ctx.meter))],

  // Defaults and flow
  ['default', fn([A], ([d = null, ...given]) => (given.length === 0 || empty(given[0] ?? null) ? d : (given[0] ?? null)), A)],
  ['empty', fn([A], ([v = null]) => empty(v))],
  ['coalesce', fn([], (args) => args.find((v) => !empty(v)) ?? null, A)],
  ['ternary', fn([A, A, 'bool'], ([t = null, f = null, c]) => (c === true ? t : f))],
  [
    'required',
    fn([S, A], ([warn, v = null], ctx) => {
      if (v === null || v === '') throw new FuncError(messageOf(str(warn), ctx.literal[0], 'a required value is missing or empty'));
      return v;
    }),
  ],
  [
    'fail',
    fn([S], ([msg], ctx) => {
      throw new FuncError(messageOf(str(msg), ctx.literal[0], 'the template failed'));
    }),
  ],

  // Lists and dictionaries
  ['list', fn([], (args) => anyList(args), A)],
  ['slice', fn([A], ([list = null, ...indices]) => sliceList(list, indices), A)],
  [
    'dict',
    fn(
      [],
      (args, ctx) => {
        const entries = new Map<string, GoValue>();
        for (let i = 0; i < args.length; i += 2) entries.set(strval(args[i] ?? null, ctx), i + 1 < args.length ? (args[i + 1] ?? null) : '');
        return anyMap(entries);
      },
      A,
    ),
  ],
  ['get', fn([M, S], ([d, k]) => (d instanceof GoMap ? (d.entries.has(str(k)) ? (d.entries.get(str(k)) ?? null) : '') : ''))],
  ['hasKey', fn([M, S], ([d, k]) => d instanceof GoMap && d.entries.has(str(k)))],
  ['keys', fn([], (dicts) => stringList(dicts.flatMap((d) => (d instanceof GoMap ? d.sortedKeys() : []))), M)],

  // ESO: certificates and keys
  ['filterPEM', fn([S, S], ([t, s]) => filterPEM(str(t), str(s)))],
  ['filterCertChain', fn([S, S], ([t, s]) => filterCertChain(str(t), str(s)))],
  ['pkcs12key', fn([S], ([s], ctx) => (ctx.meter(pkcs12Steps), pkcs12keyPass('', str(s))))],
  ['pkcs12keyPass', fn([S, S], ([p, s], ctx) => (ctx.meter(pkcs12Steps), pkcs12keyPass(str(p), str(s))))],
  ['pkcs12cert', fn([S], ([s], ctx) => (ctx.meter(pkcs12Steps), pkcs12certPass('', str(s))))],
  ['pkcs12certPass', fn([S, S], ([p, s], ctx) => (ctx.meter(pkcs12Steps), pkcs12certPass(str(p), str(s))))],
  ['pemToPkcs12', fn([S, S], ([c, k], ctx) => (ctx.meter(pkcs12Steps), pemToPkcs12Pass(str(c), str(k), '')))],
  ['pemToPkcs12Pass', fn([S, S, S], ([c, k, p], ctx) => (ctx.meter(pkcs12Steps), pemToPkcs12Pass(str(c), str(k), str(p))))],
  ['fullPemToPkcs12', fn([S, S], ([c, k], ctx) => (ctx.meter(pkcs12Steps), fullPemToPkcs12Pass(str(c), str(k), '')))],
  ['fullPemToPkcs12Pass', fn([S, S, S], ([c, k, p], ctx) => (ctx.meter(pkcs12Steps), fullPemToPkcs12Pass(str(c), str(k), str(p))))],
  ['jwkPublicKeyPem', fn([S], ([s]) => jwkPublicKeyPem(str(s)))],
  ['jwkPrivateKeyPem', fn([S], ([s]) => jwkPrivateKeyPem(str(s)))],
]);

/** cast.ToInt, as sprig converts list indices. */
function toInt(v: GoValue): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(v);
    if (!m) return 0;
    const body = m[2] ?? '0';
    const n = Number(/^0[0-7]+$/.test(body) ? parseInt(body, 8) : body);
    return m[1] === '-' ? -n : n;
  }
  return 0;
}

/** sprig's slice (which replaces Go's builtin of that name): lists only, as list[start:end]. */
function sliceList(list: GoValue, indices: readonly GoValue[]): GoValue {
  if (list === null) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
  if (!(list instanceof GoList)) {
    const kind = typeof list === 'string' ? 'string' : typeof list === 'bigint' ? 'int' : typeof list === 'number' ? 'float64' : typeof list === 'boolean' ? 'bool' : 'map';
    throw new FuncError(`list should be type of slice or array but ${kind}`);
  }
  const l = list.items.length;
  if (l === 0) return null;
  const start = indices.length > 0 ? toInt(indices[0] ?? null) : 0;
  const end = indices.length >= 2 ? toInt(indices[1] ?? null) : l;
  if (start < 0 || end < start || end > l) throw new FuncError('reflect: slice index out of range');
  return new GoList(list.elem, list.items.slice(start, end));
}

function truncate(c: bigint, s: string): string {
  const len = BigInt(s.length);
  if (c < 0n && len + c > 0n) return s.slice(Number(len + c));
  if (c >= 0n && len > c) return s.slice(0, Number(c));
  return s;
}

function replaceAll(s: string, from: string, to: string): string {
  if (from === '') {
    // strings.Replace with an empty old string inserts `to` before every rune and at the end.
    const parts = split(s, '');
    return to + parts.map((p) => p + to).join('');
  }
  return s.split(from).join(to);
}

function indent(n: bigint, s: string, ctx: CallContext): string {
  if (n < 0n) throw new FuncError('strings: negative Repeat count');
  const lines = s.split('\n').length;
  if (n * BigInt(lines) + BigInt(s.length) > BigInt(ctx.limits.maxValueBytes)) throw new FuncError(`the result would be larger than ${ctx.limits.maxValueBytes} bytes`);
  const pad = ' '.repeat(Number(n));
  return pad + s.replaceAll('\n', '\n' + pad);
}

function marshalOrEmpty(v: GoValue, ctx: CallContext, options: { escapeHTML: boolean; indent: string; fn: string }): string {
  try {
    return jsonMarshal(v, { ...options, meter: ctx.meter });
  } catch (error) {
    // sprig's toJson swallows Go's Marshal errors (NaN, infinities) and returns "".
    if (error instanceof FuncError && error.message === 'json: unsupported value') return '';
    throw error;
  }
}

/** Every function a template can call, besides Go's builtins (and, or, not, len, index, printf, ...). */
export const functions: FunctionTable = table;

export { fromText };
