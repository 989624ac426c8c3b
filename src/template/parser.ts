/**
A port of Go's text/template/parse parser (Go 1.26): the same grammar, the same checks (functions
must exist, variables must be declared, break/continue only inside range) and the same error
texts. Beyond Go: nesting is bounded (parenthesised pipelines and control blocks), so that no
template can exhaust the stack.
*/
import { decodeRune, encodeRune, fromText } from './bytes.ts';
import { describeItem, ItemType, Lexer, type Item } from './lexer.ts';
import type { ArgNode, BranchNode, CommandNode, ListNode, Node, NumberNode, PipeNode, VariableNode } from './nodes.ts';

/** Go's maxStackDepth is 10000 (1000 on wasm); JavaScript's stack is smaller. */
export const maxExpressionDepth = 200;
/** Go has no limit on nested if/range/with/define; this engine stops at this depth. */
export const maxBlockDepth = 200;

export class ParseError extends Error {
  readonly pos: number;
  readonly line: number;
  constructor(message: string, pos: number, line: number) {
    super(message);
    this.pos = pos;
    this.line = line;
  }
}

export interface Parsed {
  /** Every template of the set: the main one under its name, and each {{define}}. */
  readonly templates: ReadonlyMap<string, ListNode>;
  /** The source, as the bytes positions refer to. */
  readonly source: string;
}

/** Parses `text` (JavaScript text, UTF-8 encoded first so positions are Go's byte offsets). */
export function parse(name: string, text: string, hasFunction: (name: string) => boolean): Parsed {
  const source = fromText(text);
  const lexer = new Lexer(source);
  lexer.breakOK = !hasFunction('break');
  lexer.continueOK = !hasFunction('continue');
  const templates = new Map<string, ListNode>();
  const shared = { lexer, templates, hasFunction };
  const tree = new Tree(name, shared);
  tree.parse();
  tree.add();
  return { templates, source };
}

interface Shared {
  readonly lexer: Lexer;
  readonly templates: Map<string, ListNode>;
  readonly hasFunction: (name: string) => boolean;
}

function isEmptyTree(n: Node | undefined): boolean {
  if (n === undefined) return true;
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- only these item types matter here
  switch (n.type) {
    case 'comment':
      return true;
    case 'list':
      return n.nodes.every(isEmptyTree);
    case 'text':
      return /^[\t\n\v\f\r \x85\xa0]*$/.test(n.text);
    default:
      return false;
  }
}

class Tree {
  name: string;
  root: ListNode | undefined;
  readonly shared: Shared;
  readonly token: Item[] = [];
  peekCount = 0;
  vars: string[] = ['$'];
  actionLine = 0;
  rangeDepth = 0;
  stackDepth = 0;
  blockDepth = 0;

  constructor(name: string, shared: Shared) {
    this.name = name;
    this.shared = shared;
  }

  // ---- tokens ----

  next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.shared.lexer.nextItem();
    return this.token[this.peekCount] ?? this.eofItem();
  }

  eofItem(): Item {
    return { typ: ItemType.EOF, pos: 0, val: 'EOF', line: 1 };
  }

  backup(): void {
    this.peekCount++;
  }

  backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1] ?? this.eofItem();
    this.peekCount = 1;
    this.token[0] = this.shared.lexer.nextItem();
    return this.token[0];
  }

  nextNonSpace(): Item {
    let token: Item;
    do token = this.next();
    while (token.typ === ItemType.Space);
    return token;
  }

  peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  // ---- errors ----

  errorf(message: string): never {
    const token = this.token[0] ?? this.eofItem();
    throw new ParseError(message, token.pos, token.line);
  }

  expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  expectOneOf(expected1: ItemType, expected2: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected1 && token.typ !== expected2) this.unexpected(token, context);
    return token;
  }

  unexpected(token: Item, context: string): never {
    if (token.typ === ItemType.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at line ${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${describeItem(token)}${extra}`);
    }
    this.errorf(`unexpected ${describeItem(token)} in ${context}`);
  }

  // ---- structure ----

  add(): void {
    const existing = this.shared.templates.get(this.name);
    if (existing === undefined || isEmptyTree(existing)) {
      this.shared.templates.set(this.name, this.root ?? { type: 'list', pos: 0, nodes: [] });
      return;
    }
    if (!isEmptyTree(this.root)) this.errorf(`template: multiple definition of template ${JSON.stringify(this.name)}`);
  }

  newList(pos: number): ListNode {
    return { type: 'list', pos, nodes: [] };
  }

  parse(): void {
    this.root = this.newList(this.peek().pos);
    while (this.peek().typ !== ItemType.EOF) {
      if (this.peek().typ === ItemType.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === ItemType.Define) {
          const definition = new Tree('definition', this.shared);
          definition.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${n.type === 'end' ? '{{end}}' : '{{else}}'}`);
      this.root.nodes.push(n);
    }
  }

  parseDefinition(): void {
    const context = 'define clause';
    const name = this.expectOneOf(ItemType.String, ItemType.RawString, context);
    this.name = this.unquote(name.val);
    this.expect(ItemType.RightDelim, context);
    const [list, end] = this.itemList();
    if (end.type !== 'end') this.errorf(`unexpected {{else}} in ${context}`);
    this.root = list;
    this.add();
  }

  itemList(): [ListNode, Node] {
    if (++this.blockDepth > maxBlockDepth) this.errorf('max nesting depth exceeded');
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== ItemType.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') {
        this.blockDepth--;
        return [list, n];
      }
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  textOrAction(): Node {
    const token = this.nextNonSpace();
    // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- only these item types matter here
    switch (token.typ) {
      case ItemType.Text:
        return { type: 'text', pos: token.pos, text: token.val };
      case ItemType.LeftDelim:
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      case ItemType.Comment:
        return { type: 'comment', pos: token.pos };
      default:
        this.unexpected(token, 'input');
    }
  }

  action(): Node {
    const token = this.nextNonSpace();
    // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- only these item types matter here
    switch (token.typ) {
      case ItemType.Block:
        return this.blockControl();
      case ItemType.Break:
        return this.breakControl(token.pos, 'break');
      case ItemType.Continue:
        return this.breakControl(token.pos, 'continue');
      case ItemType.Else:
        return this.elseControl();
      case ItemType.End:
        return this.endControl();
      case ItemType.If:
        return this.branch('if');
      case ItemType.Range:
        return this.branch('range');
      case ItemType.Template:
        return this.templateControl();
      case ItemType.With:
        return this.branch('with');
    }
    this.backup();
    const start = this.peek();
    return { type: 'action', pos: start.pos, pipe: this.pipeline('command', ItemType.RightDelim) };
  }

  breakControl(pos: number, word: 'break' | 'continue'): Node {
    const token = this.nextNonSpace();
    if (token.typ !== ItemType.RightDelim) this.unexpected(token, `{{${word}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${word}}} outside {{range}}`);
    return { type: word, pos };
  }

  pipeline(context: string, end: ItemType): PipeNode {
    const token = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: token.pos, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== ItemType.Variable) break;
      this.next();
      const tokenAfterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.typ === ItemType.Assign || next.typ === ItemType.Declare) {
        pipe.isAssign = next.typ === ItemType.Assign;
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
      } else if (next.typ === ItemType.Char && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const after = this.peekNonSpace().typ;
          if (after === ItemType.Variable || after === ItemType.RightDelim || after === ItemType.RightParen) continue decls;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.typ === ItemType.Space) {
        this.backup3(v, tokenAfterVariable);
      } else {
        this.backup2(v);
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- only these item types matter here
      switch (token.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case ItemType.Bool:
        case ItemType.CharConstant:
        case ItemType.Complex:
        case ItemType.Dot:
        case ItemType.Field:
        case ItemType.Identifier:
        case ItemType.Number:
        case ItemType.Nil:
        case ItemType.RawString:
        case ItemType.String:
        case ItemType.Variable:
        case ItemType.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const first = c.args[0];
      if (first && ['bool', 'dot', 'nil', 'number', 'string'].includes(first.type)) this.errorf(`non executable command in pipeline stage ${i + 2}`);
    });
  }

  branch(context: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, ItemType.RightDelim);
      if (context === 'range') this.rangeDepth++;
      const [list, first] = this.itemList();
      let next = first;
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.type === 'else') {
        if (context === 'if' && this.peek().typ === ItemType.If) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch('if'));
        } else if (context === 'with' && this.peek().typ === ItemType.With) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch('with'));
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf('expected end; found {{else}}');
        }
      }
      return { type: context, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  endControl(): Node {
    return { type: 'end', pos: this.expect(ItemType.RightDelim, 'end').pos };
  }

  elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === ItemType.If || peek.typ === ItemType.With) return { type: 'else', pos: peek.pos };
    const token = this.expect(ItemType.RightDelim, 'else');
    return { type: 'else', pos: token.pos };
  }

  blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, ItemType.RightDelim);
    const block = new Tree(name, this.shared);
    block.blockDepth = this.blockDepth;
    const [list, end] = block.itemList();
    if (end.type !== 'end') this.errorf(`unexpected {{else}} in ${context}`);
    block.root = list;
    block.add();
    return { type: 'template', pos: token.pos, name, pipe };
  }

  templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().typ !== ItemType.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, ItemType.RightDelim);
    }
    return { type: 'template', pos: token.pos, name, pipe };
  }

  parseTemplateName(token: Item, context: string): string {
    if (token.typ === ItemType.String || token.typ === ItemType.RawString) return this.unquote(token.val);
    this.unexpected(token, context);
  }

  command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === ItemType.Space) continue;
      if (token.typ === ItemType.RightDelim || token.typ === ItemType.RightParen) this.backup();
      else if (token.typ !== ItemType.Pipe) this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().typ === ItemType.Field) {
      const pos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === ItemType.Field) fields.push(this.next().val.slice(1));
      switch (node.type) {
        case 'field':
          return { type: 'field', pos, ident: [...node.ident, ...fields] };
        case 'variable':
          return { type: 'variable', pos, ident: [...node.ident, ...fields] };
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${JSON.stringify(termText(node))}`);
          break;
        case "chain":
        case "identifier":
        case "pipe":
        default:
          return { type: 'chain', pos, node, field: fields };
      }
    }
    return node;
  }

  term(): ArgNode | undefined {
    const token = this.nextNonSpace();
    // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- only these item types matter here
    switch (token.typ) {
      case ItemType.Identifier:
        if (!this.shared.hasFunction(token.val)) this.errorf(`function ${JSON.stringify(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, ident: token.val };
      case ItemType.Dot:
        return { type: 'dot', pos: token.pos };
      case ItemType.Nil:
        return { type: 'nil', pos: token.pos };
      case ItemType.Variable:
        return this.useVar(token.pos, token.val);
      case ItemType.Field:
        return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case ItemType.Bool:
        return { type: 'bool', pos: token.pos, value: token.val === 'true' };
      case ItemType.CharConstant:
      case ItemType.Complex:
      case ItemType.Number:
        return this.newNumber(token.pos, token.val, token.typ);
      case ItemType.LeftParen: {
        if (this.stackDepth >= maxExpressionDepth) this.errorf('max expression depth exceeded');
        this.stackDepth++;
        try {
          return this.pipeline('parenthesized pipeline', ItemType.RightParen);
        } finally {
          this.stackDepth--;
        }
      }
      case ItemType.String:
      case ItemType.RawString:
        return { type: 'string', pos: token.pos, quoted: token.val, text: this.unquote(token.val) };
    }
    this.backup();
    return undefined;
  }

  newVariable(pos: number, ident: string): VariableNode {
    return { type: 'variable', pos, ident: ident.split('.') };
  }

  useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (!this.vars.includes(v.ident[0] ?? '')) this.errorf(`undefined variable ${JSON.stringify(v.ident[0])}`);
    return v;
  }

  unquote(quoted: string): string {
    const s = unquote(quoted);
    if (s === undefined) this.errorf('invalid syntax');
    return s;
  }

  newNumber(pos: number, text: string, typ: ItemType): NumberNode {
    const result = parseNumber(text, typ);
    if (typeof result === 'string') this.errorf(result);
    return { type: 'number', pos, ...result };
  }
}

function termText(node: ArgNode): string {
  switch (node.type) {
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'string':
      return node.quoted;
    case 'number':
      return node.text;
    case 'nil':
      return 'nil';
    case "chain":
    case "dot":
    case "field":
    case "identifier":
    case "pipe":
    case "variable":
    default:
      return '.';
  }
}

// ---- literals ----

/** strconv.Unquote of a "..." or `...` literal (binary strings in and out), or undefined if invalid. */
export function unquote(quoted: string): string | undefined {
  if (quoted.length < 2) return undefined;
  const q = quoted[0];
  if (q !== quoted[quoted.length - 1]) return undefined;
  const body = quoted.slice(1, -1);
  if (q === '`') return body.includes('`') ? undefined : body.replaceAll('\r', '');
  if (q !== '"') return undefined;
  let out = '';
  for (let i = 0; i < body.length; ) {
    const c = body.charAt(i);
    if (c === '"' || c === '\n') return undefined;
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const r = unquoteEscape(body, i + 1, '"');
    if (!r) return undefined;
    out += r[0];
    i = r[1];
  }
  return out;
}

/** Decodes the escape after a backslash at `i`; returns the bytes and the next index. */
function unquoteEscape(s: string, i: number, quoteChar: string): [string, number] | undefined {
  const c = s[i];
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
  if (c === undefined) return undefined;
  const mapped = Object.hasOwn(simple, c) ? simple[c] : undefined;
  if (mapped !== undefined) return [mapped, i + 1];
  if (c === quoteChar) return [c, i + 1];
  if (c === 'x' || c === 'u' || c === 'U') {
    const n = c === 'x' ? 2 : c === 'u' ? 4 : 8;
    const digits = s.slice(i + 1, i + 1 + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) return undefined;
    const v = parseInt(digits, 16);
    if (c === 'x') return [String.fromCharCode(v), i + 1 + n];
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
    return [encodeRune(v), i + 1 + n];
  }
  if (c >= '0' && c <= '7') {
    const digits = s.slice(i, i + 3);
    if (!/^[0-7]{3}$/.test(digits)) return undefined;
    const v = parseInt(digits, 8);
    if (v > 255) return undefined;
    return [String.fromCharCode(v), i + 3];
  }
  return undefined;
}

/** strconv.UnquoteChar for a character constant 'x'; the rune, or undefined. */
function unquoteCharConstant(text: string): number | undefined {
  if (text.length < 3 || !text.startsWith("'") || !text.endsWith("'")) return undefined;
  const body = text.slice(1, -1);
  if (body.startsWith('\\')) {
    const esc = body[1];
    if (esc === 'x' || (esc !== undefined && esc >= '0' && esc <= '7')) {
      const r = unquoteEscape(body, 1, "'");
      if (r?.[1] !== body.length) return undefined;
      return r[0].charCodeAt(0);
    }
    const r = unquoteEscape(body, 1, "'");
    if (r?.[1] !== body.length) return undefined;
    return decodeRune(r[0], 0)[0];
  }
  const [r, w] = decodeRune(body, 0);
  if (w !== body.length || body === "'") return undefined;
  return r;
}

type NumberValue = Omit<NumberNode, 'type' | 'pos'>;

const int64Min = -(1n << 63n);
const int64Max = (1n << 63n) - 1n;
const uint64Max = (1n << 64n) - 1n;

/** Go's underscoreOK: underscores only between digits or after a base prefix. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.startsWith('+') || s.startsWith('-')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s.startsWith('0') && 'bBoOxX'.includes(s[1] ?? '')) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseInt/ParseUint(text, 0, 64). */
function parseInteger(text: string, signed: boolean): bigint | undefined {
  let s = text;
  let negative = false;
  if (signed && (s.startsWith('+') || s.startsWith('-'))) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '') return undefined;
  let base = 10;
  let digits = s;
  if (s.startsWith('0') && s.length > 1) {
    const p = s[1]?.toLowerCase();
    if (p === 'x') [base, digits] = [16, s.slice(2)];
    else if (p === 'b') [base, digits] = [2, s.slice(2)];
    else if (p === 'o') [base, digits] = [8, s.slice(2)];
    else [base, digits] = [8, s.slice(1)];
  }
  if (s.includes('_') && !underscoreOK(s)) return undefined;
  digits = digits.replaceAll('_', '');
  if (digits === '') return undefined;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base];
  if (!valid?.test(digits)) return undefined;
  const prefix = { 2: '0b', 8: '0o', 10: '', 16: '0x' }[base] ?? '';
  let v = BigInt(prefix + digits);
  if (negative) v = -v;
  if (signed ? v < int64Min || v > int64Max : v > uint64Max) return undefined;
  return v;
}

/** strconv.ParseFloat(text, 64) for decimal and hexadecimal literals. */
function parseFloat64(text: string): number | undefined {
  let s = text;
  if (s.includes('_')) {
    if (!underscoreOK(s)) return undefined;
    s = s.replaceAll('_', '');
  }
  const dec = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  if (dec.test(s)) return Number(s);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(s);
  if (hex) {
    const [, sign = '', int = '', frac = '', exp = '0'] = hex;
    if (int === '' && frac === '') return undefined;
    const mantissa = BigInt('0x' + (int + frac || '0'));
    const v = Number(mantissa) * 2 ** (Number(exp) - 4 * frac.length);
    return sign === '-' ? -v : v;
  }
  return undefined;
}

export function parseNumber(text: string, typ: ItemType): NumberValue | string {
  const n = { text, isInt: false, isUint: false, isFloat: false, isComplex: false, int64: 0n, uint64: 0n, float64: 0 };
  if (typ === ItemType.CharConstant) {
    const r = unquoteCharConstant(text);
    if (r === undefined) return 'invalid syntax';
    return { ...n, isInt: true, isUint: true, isFloat: true, int64: BigInt(r), uint64: BigInt(r), float64: r };
  }
  if (typ === ItemType.Complex || text.endsWith('i')) return `complex numbers are not supported: ${text}`;
  const u = parseInteger(text, false);
  if (u !== undefined) {
    n.isUint = true;
    n.uint64 = u;
  }
  const i = parseInteger(text, true);
  if (i !== undefined) {
    n.isInt = true;
    n.int64 = i;
    if (i === 0n) {
      n.isUint = true;
      n.uint64 = 0n;
    }
  }
  if (n.isInt) {
    n.isFloat = true;
    n.float64 = Number(n.int64);
  } else if (n.isUint) {
    n.isFloat = true;
    n.float64 = Number(n.uint64);
  } else {
    const f = parseFloat64(text);
    if (f !== undefined && Number.isFinite(f)) {
      if (!/[.eEpP]/.test(text)) return `integer overflow: ${JSON.stringify(text)}`;
      n.isFloat = true;
      n.float64 = f;
      if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
        n.isInt = true;
        n.int64 = BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
        n.isUint = true;
        n.uint64 = BigInt(f);
      }
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) return `illegal number syntax: ${JSON.stringify(text)}`;
  return n;
}
