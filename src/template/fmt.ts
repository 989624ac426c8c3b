/**
A port of the parts of Go's fmt and strconv that templates reach: printf's verbs and flags, print
and println, %v of every value (what `{{ . }}` prints), strconv.Quote and float formatting. Output
is a binary string (bytes).
*/
import { decodeRune, encodeRune, isPrint, runeCount, runeError } from './bytes.ts';
import { GoList, GoMap, typeName, type GoValue } from './values.ts';

/** Charged once per value printed, so that printing a huge (or self-multiplying) structure is bounded. */
export type Meter = (steps: number) => void;
const noMeter: Meter = () => undefined;

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number | undefined;
  prec: number | undefined;
}

function noFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: undefined, prec: undefined };
}

class Printer {
  out = '';
  f: Flags = noFlags();
  readonly meter: Meter;

  constructor(meter: Meter) {
    this.meter = meter;
  }

  write(s: string): void {
    this.out += s;
  }

  /** Pads s (already formatted) to the width, counting runes as Go does. */
  pad(s: string): void {
    const { wid, minus, zero } = this.f;
    if (wid === undefined || wid === 0) {
      this.write(s);
      return;
    }
    const width = runeCount(s);
    if (width >= wid) {
      this.write(s);
      return;
    }
    const fill = (zero && !minus ? '0' : ' ').repeat(wid - width);
    this.write(minus ? s + ' '.repeat(wid - width) : fill + s);
  }

  printArg(arg: GoValue, verb: string): void {
    this.meter(1);
    if (arg === null) {
      if (verb === 'v' || verb === 'T') this.pad('<nil>');
      else this.badVerb(arg, verb);
      return;
    }
    if (verb === 'T') {
      this.pad(typeName(arg));
      return;
    }
    switch (typeof arg) {
      case 'boolean':
        this.fmtBool(arg, verb);
        return;
      case 'number':
        this.fmtFloat(arg, verb);
        return;
      case 'bigint':
        this.fmtInteger(arg, verb);
        return;
      case 'string':
        this.fmtString(arg, verb);
        return;
      case "function":
      case "object":
      case "symbol":
      case "undefined":
      default:
        this.printContainer(arg, verb, 0);
    }
  }

  /** printValue for an element inside a list or map: nil interfaces print as <nil> whatever the verb. */
  printElement(v: GoValue, verb: string, depth: number): void {
    if (v === null) {
      this.meter(1);
      this.write(this.f.sharpV ? 'interface {}(nil)' : '<nil>');
      return;
    }
    if (v instanceof GoList || v instanceof GoMap) {
      this.meter(1);
      this.printContainer(v, verb, depth);
    } else {
      this.printArg(v, verb);
    }
  }

  printContainer(v: GoList | GoMap, verb: string, depth: number): void {
    if (this.f.sharpV) {
      this.write(typeName(v) + '{');
      if (v instanceof GoList) {
        v.items.forEach((item, i) => {
          if (i > 0) this.write(', ');
          this.printElement(item, verb, depth + 1);
        });
      } else {
        v.sortedKeys().forEach((key, i) => {
          if (i > 0) this.write(', ');
          this.printElement(key, verb, depth + 1);
          this.write(':');
          this.printElement(v.entries.get(key) ?? null, verb, depth + 1);
        });
      }
      this.write('}');
      return;
    }
    if (v instanceof GoList) {
      this.write('[');
      v.items.forEach((item, i) => {
        if (i > 0) this.write(' ');
        this.printElement(item, verb, depth + 1);
      });
      this.write(']');
      return;
    }
    this.write('map[');
    v.sortedKeys().forEach((key, i) => {
      if (i > 0) this.write(' ');
      this.printElement(key, verb, depth + 1);
      this.write(':');
      this.printElement(v.entries.get(key) ?? null, verb, depth + 1);
    });
    this.write(']');
  }

  badVerb(arg: GoValue, verb: string): void {
    this.write('%!' + verb + '(');
    if (arg === null) {
      this.write('<nil>');
    } else {
      const saved = this.f;
      this.f = noFlags();
      this.write(typeName(arg) + '=');
      this.printArg(arg, 'v');
      this.f = saved;
    }
    this.write(')');
  }

  fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.pad(v ? 'true' : 'false');
    else this.badVerb(v, verb);
  }

  fmtString(s: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.pad(quote(s));
        else this.pad(this.truncate(s));
        return;
      case 's':
        this.pad(this.truncate(s));
        return;
      case 'x':
      case 'X':
        this.fmtSbx(s, verb === 'X');
        return;
      case 'q':
        this.fmtQ(s);
        return;
      default:
        this.badVerb(s, verb);
    }
  }

  truncate(s: string): string {
    const prec = this.f.prec;
    if (prec === undefined) return s;
    let n = prec;
    for (let i = 0; i < s.length; ) {
      if (n === 0) return s.slice(0, i);
      const [, w] = decodeRune(s, i);
      i += w;
      n--;
    }
    return s;
  }

  fmtSbx(s: string, upper: boolean): void {
    const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
    let length = s.length;
    if (this.f.prec !== undefined && this.f.prec < length) length = this.f.prec;
    let out = '';
    for (let i = 0; i < length; i++) {
      if (this.f.space && i > 0) out += ' ';
      if (this.f.sharp && (this.f.space || i === 0)) out += upper ? '0X' : '0x';
      const c = s.charCodeAt(i);
      out += (digits[c >> 4] ?? '') + (digits[c & 0xf] ?? '');
    }
    // Go pads hex of strings with spaces only (the zero flag would corrupt the encoding).
    const zero = this.f.zero;
    this.f.zero = false;
    this.pad(out);
    this.f.zero = zero;
  }

  fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.f.sharp && canBackquote(s)) this.pad('`' + s + '`');
    else if (this.f.plus) this.pad(quote(s, true));
    else this.pad(quote(s));
  }

  fmtInteger(v: bigint, verb: string): void {
    switch (verb) {
      case 'v':
      case 'd':
        this.fmtInt(v, 10, verb, '0123456789');
        return;
      case 'b':
        this.fmtInt(v, 2, verb, '01');
        return;
      case 'o':
      case 'O':
        this.fmtInt(v, 8, verb, '01234567');
        return;
      case 'x':
        this.fmtInt(v, 16, verb, '0123456789abcdef');
        return;
      case 'X':
        this.fmtInt(v, 16, verb, '0123456789ABCDEF');
        return;
      case 'c':
        this.pad(encodeRune(toRune(v)));
        return;
      case 'q':
        this.pad(quoteRune(toRune(v), this.f.plus));
        return;
      case 'U': {
        let hex = (v < 0n ? -v : v).toString(16).toUpperCase();
        const prec = this.f.prec ?? 4;
        if (hex.length < prec) hex = '0'.repeat(prec - hex.length) + hex;
        let out = 'U+' + hex;
        const r = toRune(v);
        if (this.f.sharp && v >= 0n && v <= 0x10ffffn && isPrint(r)) out += " '" + encodeRune(r) + "'";
        const zero = this.f.zero;
        this.f.zero = false;
        this.pad(out);
        this.f.zero = zero;
        return;
      }
      default:
        this.badVerb(v, verb);
    }
  }

  fmtInt(v: bigint, base: number, verb: string, digits: string): void {
    const negative = v < 0n;
    let abs = negative ? -v : v;
    let body = '';
    if (abs === 0n) body = '0';
    const b = BigInt(base);
    while (abs > 0n) {
      body = (digits[Number(abs % b)] ?? '') + body;
      abs /= b;
    }
    const { prec, wid, minus } = this.f;
    let zero = this.f.zero;
    if (prec !== undefined) {
      if (prec === 0 && v === 0n) {
        const saved = this.f.zero;
        this.f.zero = false;
        this.pad('');
        this.f.zero = saved;
        return;
      }
      if (body.length < prec) body = '0'.repeat(prec - body.length) + body;
      zero = false;
    }
    let prefix = '';
    if (this.f.sharp) {
      if (base === 2) prefix = '0b';
      else if (base === 8 && !body.startsWith('0')) prefix = '0';
      else if (base === 16) prefix = verb === 'X' ? '0X' : '0x';
    }
    if (verb === 'O') prefix = '0o';
    const sign = negative ? '-' : this.f.plus ? '+' : this.f.space ? ' ' : '';
    if (zero && !minus && wid !== undefined && prec === undefined) {
      const width = wid - sign.length - prefix.length;
      if (body.length < width) body = '0'.repeat(width - body.length) + body;
      this.write(sign + prefix + body);
      return;
    }
    const saved = this.f.zero;
    this.f.zero = false;
    this.pad(sign + prefix + body);
    this.f.zero = saved;
  }

  fmtFloat(v: number, verb: string): void {
    let format: string;
    let prec: number;
    switch (verb) {
      case 'v':
        format = 'g';
        prec = -1;
        break;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        format = verb;
        prec = -1;
        break;
      case 'f':
      case 'e':
      case 'E':
        format = verb;
        prec = 6;
        break;
      case 'F':
        format = 'f';
        prec = 6;
        break;
      default:
        this.badVerb(v, verb);
        return;
    }
    if (this.f.prec !== undefined) prec = this.f.prec;
    let num = formatFloat(v, format, prec);
    if (num.startsWith('-') || num.startsWith('+')) {
      /* keep */
    } else {
      num = '+' + num;
    }
    if (this.f.space && num.startsWith('+') && !this.f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const zero = this.f.zero;
      this.f.zero = false;
      if (num[1] === 'N' && !this.f.space && !this.f.plus) num = num.slice(1);
      this.pad(num);
      this.f.zero = zero;
      return;
    }
    if (this.f.sharp && format !== 'b') num = sharpFloat(num, format, prec);
    if (this.f.plus || !num.startsWith('+')) {
      if (this.f.zero && !this.f.minus && this.f.wid !== undefined && this.f.wid > num.length) {
        this.write(num.slice(0, 1) + '0'.repeat(this.f.wid - num.length) + num.slice(1));
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }
}

function sharpFloat(num: string, format: string, prec: number): string {
  let digits = 0;
  if (format === 'g' || format === 'G' || format === 'x') digits = prec === -1 ? 6 : prec;
  let tail = '';
  let body = num;
  let hasPoint = false;
  let sawNonzero = false;
  for (let i = 1; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c === '.') {
      hasPoint = true;
    } else if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && format !== 'x' && format !== 'X')) {
      tail = body.slice(i);
      body = body.slice(0, i);
      break;
    } else {
      if (c !== '0') sawNonzero = true;
      if (sawNonzero) digits--;
    }
  }
  if (!hasPoint) {
    if (body.length === 2 && body[1] === '0') digits--;
    body += '.';
  }
  while (digits > 0) {
    body += '0';
    digits--;
  }
  return body + tail;
}

function toRune(v: bigint): number {
  if (v < 0n || v > 0x10ffffn) return runeError;
  return Number(v);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly GoValue[], meter: Meter = noMeter): string {
  const p = new Printer(meter);
  let argNum = 0;
  let reordered = false;
  const end = format.length;
  let i = 0;
  outer: while (i < end) {
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.write(format.slice(lasti, i));
    if (i >= end) break;
    i++; // skip %
    p.f = noFlags();
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          p.f.sharp = true;
          break;
        case '0':
          p.f.zero = !p.f.minus;
          break;
        case '+':
          p.f.plus = true;
          break;
        case '-':
          p.f.minus = true;
          p.f.zero = false;
          break;
        case ' ':
          p.f.space = true;
          break;
        case undefined:
        default: {
          const c = format[i] ?? '';
          if (c >= 'a' && c <= 'z' && argNum < args.length) {
            // Fast path for a plain verb.
            const arg = args[argNum] ?? null;
            if (c === 'v') {
              p.f.sharpV = p.f.sharp;
              p.f.sharp = false;
              p.f.plusV = p.f.plus;
              p.f.plus = false;
            }
            p.printArg(arg, c);
            argNum++;
            i++;
            continue outer;
          }
          break flags;
        }
      }
    }
    // Argument index, width.
    let afterIndex: boolean;
    [argNum, i, afterIndex] = argNumber(argNum, format, i, args.length);
    if (afterIndex) reordered = true;
    if (i < end && format[i] === '*') {
      i++;
      const [wid, ok, next] = intFromArg(args, argNum);
      argNum = next;
      if (!ok) p.write('%!(BADWIDTH)');
      else {
        p.f.wid = wid;
        if (wid < 0) {
          p.f.minus = true;
          p.f.zero = false;
          p.f.wid = -wid;
        }
      }
      afterIndex = false;
    } else {
      const [n, ok, next] = parseNum(format, i, end);
      if (ok) p.f.wid = n;
      i = next;
    }
    if (i + 1 <= end && format[i] === '.') {
      i++;
      [argNum, i, afterIndex] = argNumber(argNum, format, i, args.length);
      if (afterIndex) reordered = true;
      if (i < end && format[i] === '*') {
        i++;
        const [prec, ok, next] = intFromArg(args, argNum);
        argNum = next;
        p.f.prec = prec;
        if (prec < 0) p.f.prec = undefined;
        if (!ok) p.write('%!(BADPREC)');
        afterIndex = false;
      } else {
        const [n, ok, next] = parseNum(format, i, end);
        p.f.prec = ok ? n : 0;
        i = next;
      }
    }
    if (!afterIndex) {
      [argNum, i, afterIndex] = argNumber(argNum, format, i, args.length);
      if (afterIndex) reordered = true;
    }
    if (i >= end) {
      p.write('%!(NOVERB)');
      break;
    }
    const [verbRune, size] = decodeRune(format, i);
    const verb = encodeRune(verbRune);
    i += size;
    if (verb === '%') {
      p.write('%');
    } else if (argNum >= args.length) {
      p.write('%!' + verb + '(MISSING)');
    } else {
      if (verb === 'v') {
        p.f.sharpV = p.f.sharp;
        p.f.sharp = false;
        p.f.plusV = p.f.plus;
        p.f.plus = false;
      }
      p.printArg(args[argNum] ?? null, verb);
      argNum++;
    }
  }
  if (!reordered && argNum < args.length) {
    p.f = noFlags();
    p.write('%!(EXTRA ');
    args.slice(argNum).forEach((arg, k) => {
      if (k > 0) p.write(', ');
      if (arg === null) p.write('<nil>');
      else {
        p.write(typeName(arg) + '=');
        p.printArg(arg, 'v');
      }
    });
    p.write(')');
  }
  return p.out;
}

function parseNum(s: string, start: number, end: number): [num: number, ok: boolean, next: number] {
  let i = start;
  let num = 0;
  while (i < end && (s[i] ?? '') >= '0' && (s[i] ?? '') <= '9') {
    num = num * 10 + Number(s[i]);
    if (num > 1e6) return [0, false, end];
    i++;
  }
  return [num, i > start, i];
}

function argNumber(argNum: number, format: string, i: number, numArgs: number): [argNum: number, next: number, found: boolean] {
  if (format.length <= i || format[i] !== '[') return [argNum, i, false];
  for (let j = i + 1; j < format.length; j++) {
    if (format[j] === ']') {
      const [width, ok, next] = parseNum(format, i + 1, j);
      if (!ok || next !== j) return [argNum, j + 1, false];
      const index = width - 1;
      if (index >= 0 && index < numArgs) return [index, j + 1, true];
      return [argNum, j + 1, false];
    }
  }
  return [argNum, i + 1, false];
}

function intFromArg(args: readonly GoValue[], argNum: number): [value: number, ok: boolean, next: number] {
  if (argNum >= args.length) return [0, false, argNum];
  const arg = args[argNum];
  if (typeof arg === 'bigint' && arg >= -1000000n && arg <= 1000000n) return [Number(arg), true, argNum + 1];
  return [0, false, argNum + 1];
}

/** fmt.Sprint: operands formatted with %v, a space between two operands when neither is a string. */
export function sprint(args: readonly GoValue[], meter: Meter = noMeter): string {
  const p = new Printer(meter);
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) p.write(' ');
    p.printArg(arg, 'v');
    prevString = isString;
  });
  return p.out;
}

/** fmt.Sprintln: operands formatted with %v, always a space between, and a newline. */
export function sprintln(args: readonly GoValue[], meter: Meter = noMeter): string {
  const p = new Printer(meter);
  args.forEach((arg, i) => {
    if (i > 0) p.write(' ');
    p.printArg(arg, 'v');
  });
  return p.out + '\n';
}

/** %v of one value. */
export function formatValue(v: GoValue, meter: Meter = noMeter): string {
  const p = new Printer(meter);
  p.printArg(v, 'v');
  return p.out;
}

// ---- strconv ----

const hexDigits = '0123456789abcdef';

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function appendEscapedRune(r: number, quoteChar: number, asciiOnly: boolean): string {
  if (r === quoteChar || r === 0x5c) return '\\' + String.fromCharCode(r);
  if (asciiOnly) {
    if (r < 0x80 && isPrint(r)) return String.fromCharCode(r);
  } else if (isPrint(r)) {
    return encodeRune(r);
  }
  switch (r) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + (hexDigits[r >> 4] ?? '') + (hexDigits[r & 0xf] ?? '');
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = runeError;
  if (r < 0x10000) return '\\u' + hex(r, 4);
  return '\\U' + hex(r, 8);
}

/** strconv.Quote (or QuoteToASCII) of a binary string; the result is a binary string. */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (let i = 0; i < s.length; ) {
    const [r, w] = decodeRune(s, i);
    if (w === 1 && r === runeError) {
      const c = s.charCodeAt(i);
      out += '\\x' + (hexDigits[c >> 4] ?? '') + (hexDigits[c & 0xf] ?? '');
    } else {
      out += appendEscapedRune(r, 0x22, asciiOnly);
    }
    i += w;
  }
  return out + '"';
}

export function quoteRune(r: number, asciiOnly = false): string {
  return "'" + appendEscapedRune(r, 0x27, asciiOnly) + "'";
}

function canBackquote(s: string): boolean {
  for (let i = 0; i < s.length; ) {
    const [r, w] = decodeRune(s, i);
    i += w;
    if (w > 1) {
      if (r === 0xfeff) return false;
      continue;
    }
    if (r === runeError) return false;
    if ((r < 0x20 && r !== 0x09) || r === 0x60 || r === 0x7f) return false;
  }
  return true;
}

// ---- float formatting (strconv.FormatFloat) ----

interface Decimal {
  /** Significant digits, no leading or trailing zeros ("" for zero). */
  d: string;
  /** Decimal point position: value = 0.d × 10^dp. */
  dp: number;
}

/** The shortest digits that read back as v (|v|, finite). */
function shortestDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const [mantissa = '', exponent = '0'] = Math.abs(v).toExponential().split('e');
  const d = mantissa.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(exponent) + 1 };
}

/** The exact decimal expansion of |v| (finite). */
function exactDecimal(v: number): Decimal {
  v = Math.abs(v);
  if (v === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  const trimmed = digits.replace(/0+$/, '');
  const lead = trimmed.length - trimmed.replace(/^0+/, '').length;
  return { d: trimmed.slice(lead), dp: dp - lead };
}

/** Rounds to nd significant digits, half to even on the exact value, as strconv does. */
function roundDecimal(x: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= x.d.length) return x;
  const next = x.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < x.d.length) up = true;
  else up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) {
    return { d: x.d.slice(0, nd).replace(/0+$/, ''), dp: x.dp };
  }
  const kept = x.d.slice(0, nd).split('');
  let i = kept.length - 1;
  while (i >= 0 && kept[i] === '9') i--;
  if (i < 0) return { d: '1', dp: x.dp + 1 };
  kept[i] = String(Number(kept[i]) + 1);
  return { d: kept.slice(0, i + 1).join(''), dp: x.dp };
}

function digitAt(x: Decimal, i: number): string {
  return i >= 0 && i < x.d.length ? (x.d[i] ?? '0') : '0';
}

function fmtE(x: Decimal, prec: number, fmtChar: string): string {
  let out = x.d.length > 0 ? digitAt(x, 0) : '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += digitAt(x, i);
  }
  let exp = x.d.length === 0 ? 0 : x.dp - 1;
  out += fmtChar;
  if (exp < 0) {
    out += '-';
    exp = -exp;
  } else out += '+';
  return out + (exp < 10 ? '0' + String(exp) : String(exp));
}

function fmtF(x: Decimal, prec: number): string {
  let out = '';
  if (x.dp > 0) {
    for (let i = 0; i < x.dp; i++) out += digitAt(x, i);
  } else out = '0';
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) out += digitAt(x, x.dp + i);
  }
  return out;
}

/** strconv.FormatFloat(v, fmt, prec, 64) for the formats e E f g G x X b. */
export function formatFloat(v: number, format: string, prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const sign = neg ? '-' : '';
  if (format === 'x' || format === 'X' || format === 'b') return sign + formatFloatBits(Math.abs(v), format, prec);
  const shortest = prec < 0;
  let x: Decimal;
  if (shortest) {
    x = shortestDecimal(v);
    switch (format) {
      case 'e':
      case 'E':
        prec = Math.max(x.d.length - 1, 0);
        break;
      case 'f':
        prec = Math.max(x.d.length - x.dp, 0);
        break;
      case 'g':
      case 'G':
        prec = x.d.length;
        break;
    }
  } else {
    x = exactDecimal(v);
    switch (format) {
      case 'e':
      case 'E':
        x = roundDecimal(x, prec + 1);
        break;
      case 'f':
        x = roundDecimal(x, x.dp + prec);
        break;
      case 'g':
      case 'G':
        if (prec === 0) prec = 1;
        x = roundDecimal(x, prec);
        break;
    }
  }
  switch (format) {
    case 'e':
    case 'E':
      return sign + fmtE(x, prec, format);
    case 'f':
      return sign + fmtF(x, prec);
    default: {
      let eprec = prec;
      if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length;
      if (shortest) eprec = 6;
      const exp = x.dp - 1;
      if (x.d.length !== 0 && (exp < -4 || exp >= eprec)) {
        if (prec > x.d.length) prec = x.d.length;
        return sign + fmtE(x, prec - 1, format === 'G' ? 'E' : 'e');
      }
      if (prec > x.dp) prec = x.d.length;
      return sign + fmtF(x, Math.max(prec - x.dp, 0));
    }
  }
}

function formatFloatBits(v: number, format: string, prec: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  exp -= 1075;
  if (format === 'b') return `${mant}p${exp >= 0 ? '+' : ''}${exp}`;
  // %x: -0x1.yyyyp±dd with the mantissa shifted so the leading digit is 1.
  if (mant === 0n) {
    exp = 0;
  } else {
    while (mant < 1n << 52n) {
      mant <<= 1n;
      exp--;
    }
  }
  exp += 52;
  let frac = mant & ((1n << 52n) - 1n);
  let fracDigits = 13;
  if (prec >= 0 && prec < 13) {
    const shift = BigInt((13 - prec) * 4);
    const half = 1n << (shift - 1n);
    const rem = frac & ((1n << shift) - 1n);
    frac >>= shift;
    if (rem > half || (rem === half && (frac & 1n) === 1n)) frac++;
    if (frac >> BigInt(prec * 4) !== 0n) {
      frac = 0n;
      exp++;
    }
    fracDigits = prec;
  }
  let hexFrac = fracDigits > 0 ? frac.toString(16).padStart(fracDigits, '0') : '';
  if (prec < 0) hexFrac = hexFrac.replace(/0+$/, '');
  const lead = mant === 0n ? '0' : '1';
  let out = '0x' + lead + (hexFrac ? '.' + hexFrac : '') + 'p' + (exp >= 0 ? '+' : '-') + String(Math.abs(exp)).padStart(2, '0');
  if (format === 'X') out = out.toUpperCase();
  return out;
}
