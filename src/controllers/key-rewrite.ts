/**
The `dataFrom[].rewrite` operations, as External Secrets Operator applies them: in order, each one's
output the next one's input. `regexp` is Go's Regexp.ReplaceAllString (the JavaScript engine runs
the expression; admission has already compiled it as RE2), `transform` a Go template over `.value`,
the key. Pure: no I/O.
*/
import type { RewriteEntry } from '../api/v1alpha1/thalassa-secret.ts';
import { reasons, SyncError } from './sync-error.ts';
import { renderTemplateBytes, TemplateError } from './template.ts';

/** A key is short: a transform that renders more is a mistake, and the result must be a Secret key anyway. */
const maxKeyBytes = 253;

export type KeyRewriter = (key: string) => string;

/** Compiles `rewrites` once per entry; `where` names the entry in errors (`dataFrom[2]`). */
export function compileRewrites(rewrites: readonly RewriteEntry[] | undefined, where: string): KeyRewriter {
  const steps = (rewrites ?? []).map((rewrite, i) => compileRewrite(rewrite, `${where}.rewrite[${i}]`));
  return (key) => steps.reduce((current, step) => step(current), key);
}

function compileRewrite(rewrite: RewriteEntry, where: string): KeyRewriter {
  if (rewrite.regexp) {
    const { source, target } = rewrite.regexp;
    const pattern = compileGoRegexp(source, `${where}.regexp`);
    return (key) => replaceAllGo(pattern, key, target);
  }
  if (rewrite.transform) {
    const { template } = rewrite.transform;
    const name = `${where}.transform`;
    return (key) => {
      try {
        return renderTemplateBytes(name, template, new Map([['value', Buffer.from(key, 'utf8')]]), { maxOutputBytes: maxKeyBytes + 1 }).toString('utf8');
      } catch (error) {
        if (error instanceof TemplateError) throw new SyncError(reasons.TemplateFailed, error.message);
        throw error;
      }
    };
  }
  throw new SyncError(reasons.InvalidSource, `${where}: exactly one of regexp and transform must be set`);
}

/**
RE2's syntax as JavaScript reads it: `(?P<name>` is `(?<name>`. What JavaScript cannot compile is
InvalidSource (admission, which compiles RE2, lets through only what RE2 accepts).
*/
export function compileGoRegexp(source: string, where: string): RegExp {
  try {
    return new RegExp(source.replaceAll('(?P<', '(?<'), 'g');
  } catch {
    throw new SyncError(reasons.InvalidSource, `${where}: source is not a regular expression this operator can run`);
  }
}

/**
Go's ReplaceAllString: every match replaced by `template` expanded, and an empty match right after
a previous match ignored (JavaScript's replace would replace it too).
*/
export function replaceAllGo(pattern: RegExp, input: string, template: string): string {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  let out = '';
  let last = 0;
  let previousEnd = -1;
  re.lastIndex = 0;
  for (;;) {
    const match = re.exec(input);
    if (!match) break;
    const start = match.index;
    const end = start + match[0].length;
    if (match[0].length === 0) {
      re.lastIndex = end + 1;
      if (start === previousEnd) {
        if (re.lastIndex > input.length) break;
        continue;
      }
    }
    out += input.slice(last, start) + expand(template, match);
    last = end;
    previousEnd = end;
    if (re.lastIndex > input.length) break;
  }
  return out + input.slice(last);
}

/** Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`; a malformed `$` is kept as it is. */
function expand(template: string, match: RegExpExecArray): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = /^(?:\{(\w+)\}|(\w+))/.exec(rest);
    if (!ref) {
      out += '$';
      continue;
    }
    rest = rest.slice(ref[0].length);
    const name = ref[1] ?? ref[2] ?? '';
    const num = /^\d+$/.test(name) && !(name.length > 1 && name.startsWith('0')) && name.length <= 8 ? Number(name) : -1;
    out += (num >= 0 ? match[num] : match.groups?.[name]) ?? '';
  }
  return out + rest;
}
