/**
A small, safe subset of Go's text/template, the syntax Kubernetes users know from Helm and
External Secrets: literal text with actions `{{ pipeline }}`. A pipeline is a value or a function
call, optionally piped (`|`) into more functions. Values: `.key`, `index . "key"`, "string"
literals, numbers. Functions: b64enc, b64dec, upper, lower, trim, quote, printf. There are no
conditionals, loops or variables: a template can only combine values, never run code.

Errors name the template and the problem, never a value.
*/
export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Token = { kind: 'field'; name: string } | { kind: 'dot' } | { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'ident'; name: string } | { kind: 'pipe' } | { kind: 'lparen' } | { kind: 'rparen' };

type Expr = { kind: 'field'; name: string } | { kind: 'dot' } | { kind: 'literal'; value: string | number } | { kind: 'call'; fn: string; args: Expr[] };

type Value = string | number | Readonly<Record<string, string>>;

const functions: Record<string, (args: Value[], where: string) => Value> = {
  b64enc: (args, where) => Buffer.from(str(one(args, 'b64enc', where), where), 'utf8').toString('base64'),
  b64dec: (args, where) => {
    const input = str(one(args, 'b64dec', where), where);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input) || input.length % 4 !== 0) throw new TemplateError(`${where}: b64dec: input is not base64`);
    return Buffer.from(input, 'base64').toString('utf8');
  },
  upper: (args, where) => str(one(args, 'upper', where), where).toUpperCase(),
  lower: (args, where) => str(one(args, 'lower', where), where).toLowerCase(),
  trim: (args, where) => str(one(args, 'trim', where), where).trim(),
  quote: (args, where) => JSON.stringify(str(one(args, 'quote', where), where)),
  index: (args, where) => {
    const [map, key] = args;
    if (args.length !== 2 || typeof map !== 'object' || typeof key !== 'string') throw new TemplateError(`${where}: index takes . and a key`);
    const value = map[key];
    if (value === undefined) throw new TemplateError(`${where}: no value named "${key}"`);
    return value;
  },
  printf: (args, where) => {
    const [format, ...rest] = args;
    if (typeof format !== 'string') throw new TemplateError(`${where}: printf needs a format string`);
    let i = 0;
    const out = format.replace(/%([sdvq%])/g, (_match, verb: string) => {
      if (verb === '%') return '%';
      const arg = rest[i++];
      if (arg === undefined) throw new TemplateError(`${where}: printf has fewer arguments than verbs`);
      const text = str(arg, where);
      return verb === 'q' ? JSON.stringify(text) : text;
    });
    if (i < rest.length) throw new TemplateError(`${where}: printf has more arguments than verbs`);
    return out;
  },
};

function one(args: Value[], fn: string, where: string): Value {
  if (args.length !== 1 || args[0] === undefined) throw new TemplateError(`${where}: ${fn} takes one argument`);
  return args[0];
}

function str(value: Value, where: string): string {
  if (typeof value === 'object') throw new TemplateError(`${where}: expected a value, got the whole map (use .key)`);
  return String(value);
}

function tokenize(action: string, where: string): Token[] {
  const tokens: Token[] = [];
  if (action.trim() === '') throw new TemplateError(`${where}: empty action`);
  const re = /\s*(?:(\.[A-Za-z_][A-Za-z0-9_]*)|(\.)|"((?:[^"\\]|\\.)*)"|`([^`]*)`|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\|)|(\()|(\)))\s*/y;
  let position = 0;
  while (position < action.length) {
    re.lastIndex = position;
    const m = re.exec(action);
    if (!m) throw new TemplateError(`${where}: unexpected "${action.slice(position, position + 10)}"`);
    position = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'field', name: m[1].slice(1) });
    else if (m[2]) tokens.push({ kind: 'dot' });
    else if (m[3] !== undefined) tokens.push({ kind: 'string', value: JSON.parse(`"${m[3]}"`) as string });
    else if (m[4] !== undefined) tokens.push({ kind: 'string', value: m[4] });
    else if (m[5]) tokens.push({ kind: 'number', value: Number(m[5]) });
    else if (m[6]) tokens.push({ kind: 'ident', name: m[6] });
    else if (m[7]) tokens.push({ kind: 'pipe' });
    else if (m[8]) tokens.push({ kind: 'lparen' });
    else if (m[9]) tokens.push({ kind: 'rparen' });
  }
  return tokens;
}

class Parser {
  readonly #tokens: Token[];
  readonly #where: string;
  #i = 0;

  constructor(tokens: Token[], where: string) {
    this.#tokens = tokens;
    this.#where = where;
  }

  parse(): Expr {
    const expr = this.#pipeline();
    if (this.#i < this.#tokens.length) throw new TemplateError(`${this.#where}: unexpected token after the pipeline`);
    return expr;
  }

  #pipeline(): Expr {
    let expr = this.#command();
    while (this.#tokens[this.#i]?.kind === 'pipe') {
      this.#i++;
      const next = this.#command();
      // `x | f a` is `f a x`: the piped value becomes the last argument.
      if (next.kind !== 'call') throw new TemplateError(`${this.#where}: only a function can follow "|"`);
      expr = { kind: 'call', fn: next.fn, args: [...next.args, expr] };
    }
    return expr;
  }

  #command(): Expr {
    const first = this.#tokens[this.#i];
    if (first?.kind === 'ident') {
      this.#i++;
      if (!(first.name in functions)) throw new TemplateError(`${this.#where}: unknown function "${first.name}"`);
      const args: Expr[] = [];
      for (let arg = this.#operand(); arg; arg = this.#operand()) args.push(arg);
      return { kind: 'call', fn: first.name, args };
    }
    const operand = this.#operand();
    if (!operand) throw new TemplateError(`${this.#where}: empty action`);
    return operand;
  }

  #operand(): Expr | undefined {
    const token = this.#tokens[this.#i];
    switch (token?.kind) {
      case 'field':
        this.#i++;
        return { kind: 'field', name: token.name };
      case 'dot':
        this.#i++;
        return { kind: 'dot' };
      case 'string':
      case 'number':
        this.#i++;
        return { kind: 'literal', value: token.value };
      case 'lparen': {
        this.#i++;
        const inner = this.#pipeline();
        if (this.#tokens[this.#i]?.kind !== 'rparen') throw new TemplateError(`${this.#where}: missing ")"`);
        this.#i++;
        return inner;
      }
      case 'ident':
      case 'pipe':
      case 'rparen':
      case undefined:
        return undefined;
    }
  }
}

function evaluate(expr: Expr, values: Readonly<Record<string, string>>, where: string): Value {
  switch (expr.kind) {
    case 'dot':
      return values;
    case 'literal':
      return expr.value;
    case 'field': {
      const value = values[expr.name];
      if (value === undefined) throw new TemplateError(`${where}: no value named "${expr.name}"`);
      return value;
    }
    case 'call': {
      const fn = functions[expr.fn];
      if (!fn) throw new TemplateError(`${where}: unknown function "${expr.fn}"`);
      return fn(
        expr.args.map((arg) => evaluate(arg, values, where)),
        where,
      );
    }
  }
}

/** Renders `template` (named `name` in errors) with `values` as the dot. */
export function renderTemplate(name: string, template: string, values: Readonly<Record<string, string>>): string {
  const where = `template "${name}"`;
  let out = '';
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) return out + rest;
    out += rest.slice(0, open);
    let close = rest.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`${where}: unclosed action`);
    let action = rest.slice(open + 2, close);
    // {{- and -}} trim the surrounding white space, as in Go.
    if (action.startsWith('- ')) {
      out = out.trimEnd();
      action = action.slice(2);
    }
    let trimAfter = false;
    if (action.endsWith(' -')) {
      trimAfter = true;
      action = action.slice(0, -2);
    }
    const value = evaluate(new Parser(tokenize(action, where), where).parse(), values, where);
    out += str(value, where);
    close += 2;
    rest = rest.slice(close);
    if (trimAfter) rest = rest.trimStart();
  }
}
