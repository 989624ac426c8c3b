/**
A port of Go's text/template executor (exec.go and the builtins of funcs.go, Go 1.26) with ESO's
option missingkey=error, over the value model of values.ts instead of reflection. Go's type checks
on function arguments are kept (a sprig function taking a string refuses an int, as in ESO), and so
are its error texts, except where Go's would print a value.

Bounded: every action, command and printed value is a step (Limits.maxSteps), output and every
function result are limited in bytes, and {{template}} calls in depth.
*/
import { toBytes } from './bytes.ts';
import { defaultLimits, FuncError, TemplateError, type Limits } from './errors.ts';
import { formatValue, quote, sprint, sprintf, sprintln } from './fmt.ts';
import { nodeString, type AnyNode, type ArgNode, type BranchNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode, type Node, type NumberNode, type PipeNode, type TemplateNode, type VariableNode } from './nodes.ts';
import { parse, ParseError, type Parsed } from './parser.ts';
import { GoList, GoMap, isTrue, typeName, type GoValue } from './values.ts';

/** Go parameter types the engine checks arguments against. */
export type ParamType = 'string' | 'int' | 'float64' | 'bool' | 'interface {}' | 'map[string]interface {}' | '[]interface {}' | 'reflect.Value';

export interface CallContext {
  /** Charges evaluation steps (e.g. per element a function walks). */
  readonly meter: (steps: number) => void;
  /** Whether argument i was written in the template as a literal (so it is no secret value). */
  readonly literal: readonly boolean[];
  readonly limits: Limits;
}

export interface GoFunction {
  readonly params: readonly ParamType[];
  /** Type of the variadic last parameter's elements, if the function is variadic. */
  readonly variadic?: ParamType;
  /** Throws FuncError for Go's `error` results. */
  readonly call: (args: GoValue[], ctx: CallContext) => GoValue;
}

export type FunctionTable = ReadonlyMap<string, GoFunction>;

/** A value held in an interface{}: an element of a []interface{} or map[string]interface{}. */
class Iface {
  readonly v: GoValue;
  constructor(v: GoValue) {
    this.v = v;
  }
}
type Value = GoValue | Iface;

const missing = Symbol('missing');
type Final = Value | typeof missing;

/** {{break}} and {{continue}} unwind to their range. */
class Signal extends Error {}
const breakSignal = new Signal('break');
const continueSignal = new Signal('continue');

function unwrap(v: Value): GoValue {
  return v instanceof Iface ? v.v : v;
}

function canBeNil(typ: ParamType): boolean {
  return typ === 'interface {}' || typ === 'reflect.Value' || typ === 'map[string]interface {}' || typ === '[]interface {}';
}

class ExecError extends Error {
  readonly node: AnyNode | undefined;
  readonly templateName: string;
  constructor(message: string, node: AnyNode | undefined, templateName: string) {
    super(message);
    this.node = node;
    this.templateName = templateName;
  }
}

class LimitError extends Error {}

interface Variable {
  readonly name: string;
  value: Value;
}

class State {
  readonly parsed: Parsed;
  readonly funcs: FunctionTable;
  readonly limits: Limits;
  templateName: string;
  node: AnyNode | undefined;
  vars: Variable[];
  depth = 0;
  steps = 0;
  out: string[] = [];
  outBytes = 0;
  readonly meter = (n: number): void => this.step(n);

  constructor(parsed: Parsed, funcs: FunctionTable, limits: Limits, name: string, dot: GoValue) {
    this.parsed = parsed;
    this.funcs = funcs;
    this.limits = limits;
    this.templateName = name;
    this.vars = [{ name: '$', value: dot }];
  }

  step(n = 1): void {
    this.steps += n;
    if (this.steps > this.limits.maxSteps) throw new LimitError(`the template takes more than ${this.limits.maxSteps} steps`);
  }

  write(s: string): void {
    this.outBytes += s.length;
    if (this.outBytes > this.limits.maxOutputBytes) throw new LimitError(`the output is larger than ${this.limits.maxOutputBytes} bytes`);
    this.out.push(s);
  }

  at(node: AnyNode): void {
    this.node = node;
  }

  errorf(message: string): never {
    throw new ExecError(message, this.node, this.templateName);
  }

  // ---- variables ----

  push(name: string, value: Value): void {
    this.vars.push({ name, value });
  }

  mark(): number {
    return this.vars.length;
  }

  pop(mark: number): void {
    this.vars.length = mark;
  }

  setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  setTopVar(n: number, value: Value): void {
    const v = this.vars[this.vars.length - n];
    if (v) v.value = value;
  }

  varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ---- walking ----

  walk(dot: Value, node: Node): void {
    this.step();
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw breakSignal;
      case 'continue':
        throw continueSignal;
      case 'comment':
        return;
      case 'if':
      case 'with':
        this.walkIfOrWith(node, dot);
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'text':
        this.write(node.text);
        return;
      case 'else':
      case 'end':
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  walkIfOrWith(node: BranchNode, dot: Value): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(unwrap(val))) {
        this.walk(node.type === 'with' ? val : dot, node.list);
      } else if (node.elseList) {
        this.walk(dot, node.elseList);
      }
    } finally {
      this.pop(mark);
    }
  }

  walkRange(dot: Value, r: BranchNode): void {
    this.at(r);
    const outer = this.mark();
    try {
      const val = unwrap(this.evalPipeline(dot, r.pipe));
      const mark = this.mark();
      const decl = r.pipe.decl;
      const oneIteration = (index: Value, elem: Value): boolean => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) {
            if (decl.length > 1) this.setVar(decl[0]?.ident[0] ?? '', index);
            else this.setVar(decl[0]?.ident[0] ?? '', elem);
          } else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]?.ident[0] ?? '', elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (signal) {
          if (signal === breakSignal) return false;
          if (signal !== continueSignal) throw signal;
        } finally {
          this.pop(mark);
        }
        return true;
      };
      let ran = false;
      if (typeof val === 'bigint') {
        if (decl.length > 1) this.errorf('can\'t use an int to iterate over more than one variable');
        for (let i = 0n; i < val; i++) {
          ran = true;
          if (!oneIteration(null, i)) break;
        }
      } else if (val instanceof GoList) {
        const wrap = val.elem === 'any';
        for (let i = 0; i < val.items.length; i++) {
          ran = true;
          const item = val.items[i] ?? null;
          if (!oneIteration(BigInt(i), wrap ? new Iface(item) : item)) break;
        }
      } else if (val instanceof GoMap) {
        const wrap = val.elem === 'any';
        for (const key of val.sortedKeys()) {
          ran = true;
          const item = val.entries.get(key) ?? null;
          if (!oneIteration(key, wrap ? new Iface(item) : item)) break;
        }
      } else if (val !== null) {
        this.errorf(`range can't iterate over a value of type ${typeName(val)}`);
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.pop(outer);
    }
  }

  walkTemplate(dot: Value, t: TemplateNode): void {
    this.at(t);
    const tmpl = this.parsed.templates.get(t.name);
    if (!tmpl) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= this.limits.maxTemplateDepth) this.errorf(`exceeded maximum template depth (${this.limits.maxTemplateDepth})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : null;
    const saved = { vars: this.vars, name: this.templateName };
    this.depth++;
    this.templateName = t.name;
    this.vars = [{ name: '$', value: newDot }];
    try {
      this.walk(newDot, tmpl);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.templateName = saved.name;
    }
  }

  // ---- evaluation ----

  evalPipeline(dot: Value, pipe: PipeNode): Value {
    this.at(pipe);
    let value: Final = missing;
    for (const cmd of pipe.cmds) {
      value = unwrap(this.evalCommand(dot, cmd, value));
    }
    const result: Value = value === missing ? null : value;
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable.ident[0] ?? '', result);
      else this.push(variable.ident[0] ?? '', result);
    }
    return result;
  }

  notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== missing) this.errorf(`can't give argument to non-function ${nodeString(args[0] ?? { type: 'nil', pos: 0 })}`);
  }

  evalCommand(dot: Value, cmd: CommandNode, final: Final): Value {
    this.step();
    const first = cmd.args[0];
    if (!first) this.errorf('empty command');
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
      case 'bool':
      case 'dot':
      case 'nil':
      case 'number':
      case 'string':
        break;
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      // falls through (errorf never returns)
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  idealConstant(constant: NumberNode): GoValue {
    this.at(constant);
    const text = constant.text;
    const isHexInt = text.length > 2 && text.startsWith('0') && (text[1] === 'x' || text[1] === 'X') && !/[pP]/.test(text);
    const isRuneInt = text.startsWith("'");
    if (constant.isFloat && !isHexInt && !isRuneInt && /[.eEpP]/.test(text)) return constant.float64;
    if (constant.isInt) return constant.int64;
    if (constant.isUint) this.errorf(`${text} overflows int`);
    return null;
  }

  evalFieldNode(dot: Value, field: FieldNode, args: readonly ArgNode[] | null, final: Final): Value {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  evalChainNode(dot: Value, chain: ChainNode, args: readonly ArgNode[] | null, final: Final): Value {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  evalVariableNode(dot: Value, variable: VariableNode, args: readonly ArgNode[] | null, final: Final): Value {
    this.at(variable);
    const value = this.varValue(variable.ident[0] ?? '');
    if (variable.ident.length === 1) {
      this.notAFunction(args ?? [], final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  evalFieldChain(_dot: Value, receiver: Value, node: AnyNode, ident: readonly string[], args: readonly ArgNode[] | null, final: Final): Value {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(ident[i] ?? '', node, null, missing, receiver);
    return this.evalField(ident[n - 1] ?? '', node, args, final, receiver);
  }

  evalField(fieldName: string, node: AnyNode, args: readonly ArgNode[] | null, final: Final, receiver: Value): Value {
    this.at(node);
    if (receiver === null) this.errorf(`nil data; no entry for key ${quote(fieldName)}`);
    const typ = receiver instanceof Iface ? 'interface {}' : typeName(receiver);
    const value = unwrap(receiver);
    if (value === null) this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
    const hasArgs = (args !== null && args.length > 1) || final !== missing;
    if (value instanceof GoMap) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      // Own entries only: a Map has no prototype, so .constructor or .valueOf are just missing keys.
      const result = value.entries.get(fieldName);
      if (result === undefined) this.errorf(`map has no entry for key ${quote(fieldName)}`);
      return value.elem === 'any' ? new Iface(result) : result;
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  evalFunction(dot: Value, node: IdentifierNode, cmd: AnyNode, args: readonly ArgNode[] | null, final: Final): Value {
    this.at(node);
    const name = node.ident;
    const builtin = builtins.get(name);
    const fn = this.funcs.get(name) ?? builtin;
    if (!fn) this.errorf(`${quote(name)} is not a defined function`);
    return this.evalCall(dot, fn, fn === builtin, cmd, name, args, final);
  }

  evalCall(dot: Value, fn: GoFunction, isBuiltin: boolean, node: AnyNode, name: string, allArgs: readonly ArgNode[] | null, final: Final): Value {
    const args = allArgs ? allArgs.slice(1) : [];
    let numIn = args.length;
    if (final !== missing) numIn++;
    let numFixed = args.length;
    if (fn.variadic !== undefined) {
      numFixed = fn.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${fn.params.length} got ${args.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }

    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: Value = null;
      for (const arg of args) {
        v = this.evalArg(dot, 'reflect.Value', arg);
        if (isTrue(unwrap(v)) === (name === 'or')) return v;
      }
      if (final !== missing) v = final;
      return v;
    }

    const argv: GoValue[] = [];
    const literal: boolean[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) {
      const arg = args[i];
      if (!arg) break;
      argv[i] = this.evalArg(dot, fn.params[i] ?? 'interface {}', arg);
      literal[i] = arg.type === 'string' || arg.type === 'number' || arg.type === 'bool';
    }
    if (fn.variadic !== undefined) {
      for (; i < args.length; i++) {
        const arg = args[i];
        if (!arg) break;
        argv[i] = this.evalArg(dot, fn.variadic, arg);
        literal[i] = arg.type === 'string' || arg.type === 'number' || arg.type === 'bool';
      }
    }
    if (final !== missing) {
      let t: ParamType = fn.params[fn.params.length - 1] ?? 'interface {}';
      if (fn.variadic !== undefined) t = numIn - 1 < numFixed ? (fn.params[numIn - 1] ?? 'interface {}') : fn.variadic;
      argv[i] = this.validateType(final, t);
      literal[i] = false;
    }
    if (isBuiltin && name === 'call') {
      const callee = args.length === 0 ? 'the piped value' : nodeString(args[0] ?? { type: 'nil', pos: 0 });
      const target = argv[0] ?? null;
      this.at(node);
      if (target === null) this.errorf('error calling call: call of nil');
      this.errorf(`error calling call: non-function ${callee} of type ${typeName(target)}`);
    }
    let result: GoValue;
    try {
      result = fn.call(argv, { meter: this.meter, literal, limits: this.limits });
    } catch (error) {
      if (error instanceof FuncError) {
        this.at(node);
        this.errorf(`error calling ${name}: ${error.message}`);
      }
      throw error;
    }
    if (typeof result === 'string' && result.length > this.limits.maxValueBytes) {
      this.at(node);
      throw new LimitError(`${name} returned more than ${this.limits.maxValueBytes} bytes`);
    }
    return result;
  }

  validateType(value: Value, typ: ParamType | null): GoValue {
    if (value === null) {
      if (typ === null || canBeNil(typ)) return null;
      this.errorf(`invalid value; expected ${typ}`);
    }
    if (typ === null || typ === 'interface {}' || typ === 'reflect.Value') return unwrap(value);
    let v = value;
    if (v instanceof Iface) {
      if (v.v === null) this.errorf(`wrong type for value; expected ${typ}; got interface {}`);
      v = v.v;
    }
    const actual = typeName(v);
    if (actual !== typ) this.errorf(`wrong type for value; expected ${typ}; got ${actual}`);
    return v;
  }

  evalArg(dot: Value, typ: ParamType | null, n: ArgNode): GoValue {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === null || canBeNil(typ)) return null;
        this.errorf(`cannot assign nil to ${typ}`);
      // falls through (errorf never returns)
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], missing), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, missing), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, missing), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, missing), typ);
      case 'bool':
      case 'number':
      case 'string':
        break;
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      // falls through
      case 'float64':
        if (n.type === 'number' && n.isFloat) return n.float64;
        this.errorf(`expected float; found ${nodeString(n)}`);
      // falls through
      case 'int':
        if (n.type === 'number' && n.isInt) return n.int64;
        this.errorf(`expected integer; found ${nodeString(n)}`);
      // falls through
      case 'string':
        if (n.type === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
      // falls through
      case null:
      case 'interface {}':
      case 'reflect.Value':
        return this.evalEmptyInterface(n);
      case 'map[string]interface {}':
      case '[]interface {}':
        this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ}`);
    }
  }

  evalEmptyInterface(n: ArgNode): GoValue {
    this.at(n);
    switch (n.type) {
      case 'bool':
        return n.value;
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return n.text;
      case "chain":
      case "dot":
      case "field":
      case "identifier":
      case "nil":
      case "pipe":
      case "variable":
      default:
        this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
    }
  }

  printValue(node: AnyNode, v: Value): void {
    this.at(node);
    const value = unwrap(v);
    this.write(value === null ? '<no value>' : formatValue(value, this.meter));
  }
}

// ---- builtins (funcs.go) ----

function basicKind(v: GoValue): 'bool' | 'int' | 'float' | 'string' | undefined {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    case "function":
    case "object":
    case "symbol":
    case "undefined":
    default:
      return undefined;
  }
}

function eq(arg1: GoValue, rest: readonly GoValue[]): boolean {
  if (rest.length === 0) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (arg1 !== null && arg !== null) throw new FuncError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg)}`);
    } else if (k1 !== undefined) {
      truth = arg1 === arg;
    } else if (arg1 === null || arg === null) {
      truth = arg1 === arg;
    } else {
      if (typeName(arg1) !== typeName(arg)) throw new FuncError(`non-comparable types ${typeName(arg1)} and ${typeName(arg)}`);
      throw new FuncError(`non-comparable type ${typeName(arg)}`);
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: GoValue, arg2: GoValue): boolean {
  const k1 = basicKind(arg1);
  const k2 = basicKind(arg2);
  if (k1 === undefined || k2 === undefined) throw new FuncError('invalid type for comparison');
  if (k1 !== k2) throw new FuncError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg2)}`);
  if (k1 === 'bool') throw new FuncError('invalid type for comparison');
  return (arg1 as string | number | bigint) < (arg2 as string | number | bigint);
}

function indexArg(index: GoValue, cap: number): number {
  if (index === null) throw new FuncError('cannot index slice/array with nil');
  if (typeof index !== 'bigint') throw new FuncError(`cannot index slice/array with type ${typeName(index)}`);
  if (index < 0n || index > BigInt(cap)) throw new FuncError(`index out of range: ${index}`);
  return Number(index);
}

function index(item: GoValue, indexes: readonly GoValue[]): GoValue {
  if (item === null) throw new FuncError('index of untyped nil');
  let cur: GoValue = item;
  for (const ix of indexes) {
    if (cur === null) throw new FuncError('index of nil pointer');
    if (typeof cur === 'string') {
      const x = indexArg(ix, cur.length);
      if (x === cur.length) throw new FuncError(`index out of range: ${x}`);
      cur = BigInt(cur.charCodeAt(x));
    } else if (cur instanceof GoList) {
      const x = indexArg(ix, cur.items.length);
      if (x === cur.items.length) throw new FuncError(`index out of range: ${x}`);
      cur = cur.items[x] ?? null;
    } else if (cur instanceof GoMap) {
      if (ix === null) throw new FuncError('value is nil; should be of type string');
      if (typeof ix !== 'string') throw new FuncError(`value has type ${typeName(ix)}; should be string`);
      const v = cur.entries.get(ix);
      cur = v === undefined ? (cur.elem === 'string' ? '' : null) : v;
    } else {
      throw new FuncError(`can't index item of type ${typeName(cur)}`);
    }
  }
  return cur;
}

function length(item: GoValue): bigint {
  if (item === null) throw new FuncError('len of nil pointer');
  if (typeof item === 'string') return BigInt(item.length);
  if (item instanceof GoList) return BigInt(item.items.length);
  if (item instanceof GoMap) return BigInt(item.entries.size);
  throw new FuncError(`len of type ${typeName(item)}`);
}

/** Go's template evalArgs: one string as it is, anything else through fmt.Sprint. */
function evalArgs(args: readonly GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\xef\xbf\xbd', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);
}

function jsEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] ?? '';
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '<') out += '\\u003C';
    else if (ch === '>') out += '\\u003E';
    else if (ch === '&') out += '\\u0026';
    else if (ch === '=') out += '\\u003D';
    else if (c < 0x20) out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    else out += ch;
  }
  // Non-ASCII: printable runes stay, others become \uXXXX (as JSEscape does).
  return out;
}

function urlQueryEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? '';
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += '%' + s.charCodeAt(i).toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const rv: ParamType = 'reflect.Value';
const builtins: FunctionTable = new Map<string, GoFunction>([
  ['and', { params: [rv], variadic: rv, call: () => null }],
  ['or', { params: [rv], variadic: rv, call: () => null }],
  ['call', { params: [rv], variadic: rv, call: () => null }],
  ['not', { params: [rv], call: ([a = null]) => !isTrue(a) }],
  ['len', { params: [rv], call: ([a = null]) => length(a) }],
  ['index', { params: [rv], variadic: rv, call: ([item = null, ...rest]) => index(item, rest) }],
  ['print', { params: [], variadic: 'interface {}', call: (args, ctx) => sprint(args, ctx.meter) }],
  ['println', { params: [], variadic: 'interface {}', call: (args, ctx) => sprintln(args, ctx.meter) }],
  [
    'printf',
    {
      params: ['string'],
      variadic: 'interface {}',
      call: ([format = '', ...args], ctx) => sprintf(typeof format === 'string' ? format : '', args, ctx.meter),
    },
  ],
  ['eq', { params: [rv], variadic: rv, call: ([a = null, ...rest]) => eq(a, rest) }],
  ['ne', { params: [rv, rv], call: ([a = null, b = null]) => !eq(a, [b]) }],
  ['lt', { params: [rv, rv], call: ([a = null, b = null]) => lt(a, b) }],
  ['le', { params: [rv, rv], call: ([a = null, b = null]) => lt(a, b) || eq(a, [b]) }],
  ['gt', { params: [rv, rv], call: ([a = null, b = null]) => !(lt(a, b) || eq(a, [b])) }],
  ['ge', { params: [rv, rv], call: ([a = null, b = null]) => !lt(a, b) }],
  ['html', { params: [], variadic: 'interface {}', call: (args) => htmlEscape(evalArgs(args)) }],
  ['js', { params: [], variadic: 'interface {}', call: (args) => jsEscape(evalArgs(args)) }],
  ['urlquery', { params: [], variadic: 'interface {}', call: (args) => urlQueryEscape(evalArgs(args)) }],
]);

export function isBuiltin(name: string): boolean {
  return builtins.has(name);
}

// ---- entry points ----

function location(source: string, pos: number): [line: number, column: number] {
  const text = source.slice(0, pos);
  const lastNewline = text.lastIndexOf('\n');
  const column = lastNewline === -1 ? pos : pos - (lastNewline + 1);
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) line++;
  return [line, column];
}

/** Messages are built from template text (bytes); decode them for the JavaScript error. */
function text(binary: string): string {
  return toBytes(binary).toString('utf8');
}

export interface CompiledTemplate {
  readonly name: string;
  readonly parsed: Parsed;
  readonly funcs: FunctionTable;
}

export function compile(name: string, template: string, funcs: FunctionTable): CompiledTemplate {
  try {
    const parsed = parse(name, template, (fn) => funcs.has(fn) || builtins.has(fn));
    return { name, parsed, funcs };
  } catch (error) {
    if (error instanceof ParseError) {
      // Go reports the line of the token at fault; the column is that token's, counted as Go counts.
      const [line, column] = location(Buffer.from(template, 'utf8').toString('latin1'), error.pos);
      throw new TemplateError(name, error.line, line === error.line ? column : 0, text(error.message));
    }
    if (error instanceof RangeError) throw new TemplateError(name, 1, 0, 'the template is nested too deeply');
    throw error;
  }
}

/** Executes a compiled template with `dot` as data; returns the output bytes. */
export function execute(compiled: CompiledTemplate, dot: GoValue, limits: Limits = defaultLimits): Buffer {
  const root = compiled.parsed.templates.get(compiled.name);
  const state = new State(compiled.parsed, compiled.funcs, limits, compiled.name, dot);
  const fail = (node: AnyNode | undefined, reason: string, inTemplate: string): never => {
    const [line, column] = node ? location(compiled.parsed.source, node.pos) : [1, 0];
    const context = node ? `${inTemplate === compiled.name ? '' : `executing ${JSON.stringify(text(inTemplate))} `}at <${text(nodeString(node))}>: ` : '';
    throw new TemplateError(compiled.name, line, column, context + text(reason));
  };
  try {
    if (root) state.walk(dot, root);
  } catch (error) {
    if (error instanceof ExecError) fail(error.node, error.message, error.templateName);
    if (error instanceof LimitError) fail(state.node, error.message, state.templateName);
    if (error instanceof RangeError) fail(state.node, 'the template or its data is nested too deeply', state.templateName);
    if (error === breakSignal || error === continueSignal) fail(state.node, 'break or continue outside range', state.templateName);
    throw error;
  }
  return toBytes(state.out.join(''));
}
