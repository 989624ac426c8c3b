/**
Go strings are bytes. The engine keeps every Go string as a JavaScript "binary string": one char per
byte, code units 0-255 (latin1). Concatenation, slicing, comparison (bytewise, as Go's) and Map keys
then work on bytes directly, and no value is ever decoded unless a function needs text.
*/

/** The bytes of `buffer` as a binary string. */
export function fromBytes(buffer: Uint8Array): string {
  return Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).toString('latin1');
}

/** The bytes a binary string holds. */
export function toBytes(binary: string): Buffer {
  return Buffer.from(binary, 'latin1');
}

/** UTF-8 encodes JavaScript text into a binary string (lone surrogates become U+FFFD, as in Go). */
export function fromText(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes a binary string as UTF-8 text, or undefined when the bytes are not valid UTF-8. */
export function toText(binary: string): string | undefined {
  if (isAscii(binary)) return binary;
  try {
    return strictDecoder.decode(toBytes(binary));
  } catch {
    return undefined;
  }
}

export function isAscii(binary: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(binary);
}

export const runeError = 0xfffd;

/**
Go's utf8.DecodeRuneInString on a binary string at `i`: the rune and its width in bytes. Invalid or
truncated sequences decode as (U+FFFD, 1); an empty tail as (U+FFFD, 0).
*/
export function decodeRune(s: string, i: number): [rune: number, width: number] {
  const n = s.length - i;
  if (n <= 0) return [runeError, 0];
  const c0 = s.charCodeAt(i);
  if (c0 < 0x80) return [c0, 1];
  const cont = (k: number, lo = 0x80, hi = 0xbf): number | undefined => {
    if (k >= n) return undefined;
    const c = s.charCodeAt(i + k);
    return c >= lo && c <= hi ? c & 0x3f : undefined;
  };
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = cont(1);
    return c1 === undefined ? [runeError, 1] : [((c0 & 0x1f) << 6) | c1, 2];
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const c1 = cont(1, c0 === 0xe0 ? 0xa0 : 0x80, c0 === 0xed ? 0x9f : 0xbf);
    const c2 = c1 === undefined ? undefined : cont(2);
    return c1 === undefined || c2 === undefined ? [runeError, 1] : [((c0 & 0x0f) << 12) | (c1 << 6) | c2, 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const c1 = cont(1, c0 === 0xf0 ? 0x90 : 0x80, c0 === 0xf4 ? 0x8f : 0xbf);
    const c2 = c1 === undefined ? undefined : cont(2);
    const c3 = c2 === undefined ? undefined : cont(3);
    if (c1 === undefined || c2 === undefined || c3 === undefined) return [runeError, 1];
    return [((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4];
  }
  return [runeError, 1];
}

/** Go's utf8.DecodeLastRuneInString on s[0:end]. */
export function decodeLastRune(s: string, end: number): [rune: number, width: number] {
  if (end <= 0) return [runeError, 0];
  const last = s.charCodeAt(end - 1);
  if (last < 0x80) return [last, 1];
  const lim = Math.max(0, end - 4);
  let start = end - 1;
  while (start > lim && (s.charCodeAt(start) & 0xc0) === 0x80) start--;
  const [r, w] = decodeRune(s, start);
  if (start + w !== end) return [runeError, 1];
  return [r, w];
}

/** UTF-8 encoding of one rune as a binary string (Go's utf8.AppendRune: invalid runes become U+FFFD). */
export function encodeRune(r: number): string {
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = runeError;
  if (r < 0x80) return String.fromCharCode(r);
  if (r < 0x800) return String.fromCharCode(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
  if (r < 0x10000) return String.fromCharCode(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
  return String.fromCharCode(0xf0 | (r >> 18), 0x80 | ((r >> 12) & 0x3f), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
}

/** Number of runes in a binary string, counting each invalid byte as one (utf8.RuneCountInString). */
export function runeCount(s: string): number {
  if (isAscii(s)) return s.length;
  let count = 0;
  for (let i = 0; i < s.length; ) {
    const [, w] = decodeRune(s, i);
    i += w;
    count++;
  }
  return count;
}

/** The runes of a binary string with their byte offsets. */
export function* runes(s: string): Generator<[rune: number, offset: number, width: number]> {
  for (let i = 0; i < s.length; ) {
    const [r, w] = decodeRune(s, i);
    yield [r, i, w];
    i += w;
  }
}

const letter = /^\p{L}$/u;
const digit = /^\p{Nd}$/u;
const graphic = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const space = /^\p{White_Space}$/u;

export function isLetter(r: number): boolean {
  if (r < 0x80) return (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a);
  return letter.test(String.fromCodePoint(r));
}

export function isDigit(r: number): boolean {
  if (r < 0x80) return r >= 0x30 && r <= 0x39;
  return digit.test(String.fromCodePoint(r));
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  if (r >= 0xd800 && r <= 0xdfff) return false;
  if (r > 0x10ffff) return false;
  return graphic.test(String.fromCodePoint(r));
}

/** Go's unicode.IsSpace. */
export function isSpace(r: number): boolean {
  if (r < 0x100) return r === 0x20 || (r >= 0x09 && r <= 0x0d) || r === 0x85 || r === 0xa0;
  return space.test(String.fromCodePoint(r));
}
