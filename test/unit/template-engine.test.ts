/**
What the template engine guarantees beyond ESO's behaviour (test/unit/template-vectors.test.ts holds
that): only the data's own keys are visible, nothing reaches JavaScript's prototypes or the host,
every run is bounded in steps, output, value size and nesting, and every failure is a TemplateError
with the template's name and position and without any value.
*/
import { describe, expect, it } from 'vitest';
import { isTemplateFunction, parseTemplate, renderTemplate, TemplateError, templateFunctionNames } from '../../src/template/index.ts';

const canary = 'CANARY-7f3a';
const data = new Map([
  ['secret', Buffer.from(canary)],
  ['json', Buffer.from(`{"k":"${canary}","n":1}`)],
  ['bin', Buffer.from([0xff, 0x00, 0x80, 0xc3])],
  ['empty', Buffer.alloc(0)],
]);

function render(template: string, values: ReadonlyMap<string, Buffer> = data): string {
  return renderTemplate('out', template, values).toString('latin1');
}

function failure(template: string, values: ReadonlyMap<string, Buffer> = data): TemplateError {
  try {
    render(template, values);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error(`expected a TemplateError from ${template}`);
}

describe('template engine: no prototype, no host', () => {
  it.for(['{{ .constructor }}', '{{ .__proto__ }}', '{{ .toString }}', '{{ .hasOwnProperty }}', '{{ $.constructor.name }}'])('%s is a missing key', (template) => {
    expect(failure(template).message).toContain('map has no entry for key');
  });

  it.for(['{{ valueOf }}', '{{ constructor }}', '{{ hasOwnProperty "x" }}', '{{ process }}', '{{ require "fs" }}', '{{ env "HOME" }}', '{{ expandenv "$HOME" }}'])('%s is no function', (template) => {
    expect(failure(template).message).toContain('not defined');
  });

  it('reads keys named like prototype members as plain data', () => {
    const values = new Map([
      ['__proto__', Buffer.from('p')],
      ['constructor', Buffer.from('c')],
    ]);
    expect(render('{{ index . "__proto__" }}{{ .constructor }}', values)).toBe('pc');
    expect(render('{{ index . "constructor" }}|{{ index . "valueOf" }}|')).toBe('||');
    expect(render('{{ (dict "__proto__" 1 "constructor" 2).__proto__ }}')).toBe('1');
  });

  it('does not pollute prototypes through fromJson or dict', () => {
    expect(render('{{ (fromJson `{"__proto__":{"polluted":1}}`).__proto__.polluted }}')).toBe('1');
    expect(render('{{ $d := dict "__proto__" (dict "polluted" 1) }}{{ len $d }}')).toBe('1');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('offers an explicit function table', () => {
    const names = templateFunctionNames();
    for (const name of ['b64enc', 'toJson', 'pkcs12key', 'jwkPublicKeyPem', 'printf', 'index', 'required']) expect(names).toContain(name);
    expect(isTemplateFunction('constructor')).toBe(false);
    expect(isTemplateFunction('env')).toBe(false);
    expect(isTemplateFunction('toString')).toBe(true);
  });
});

// Each of these runs a template up to its step or size bound, which takes a few seconds of CPU on
// a loaded machine: past vitest's 5 s default. What is checked is that it stops, not how fast.
describe('template engine: bounded', { timeout: 120_000 }, () => {
  it('stops a template that takes too many steps', () => {
    expect(failure('{{ range 100000000 }}{{ end }}').message).toContain('steps');
    expect(failure('{{ range 1000 }}{{ range 1000 }}{{ range 1000 }}{{ end }}{{ end }}{{ end }}').message).toContain('steps');
  });

  it('stops output beyond 1 MiB', () => {
    expect(failure('{{ range 200000 }}0123456789{{ end }}').message).toContain('output is larger than 1048576 bytes');
    expect(render('{{ range 1000 }}0123456789{{ end }}')).toHaveLength(10_000);
  });

  it('stops values that double in size', () => {
    expect(failure('{{ $x := "ab" }}{{ range 40 }}{{ $x = printf "%s%s" $x $x }}{{ end }}').message).toContain('more than 1048576 bytes');
    expect(failure('{{ repeat 100000000 "x" }}').message).toContain('larger than');
  });

  it('stops printing or encoding a structure that doubles', () => {
    const doubling = '{{ $l := list 1 }}{{ range 40 }}{{ $l = list $l $l }}{{ end }}';
    for (const use of ['{{ $l }}', '{{ toJson $l }}', '{{ toYaml $l }}', '{{ printf "%v" $l }}', '{{ len (toString $l) }}']) {
      expect(failure(doubling + use).message).toContain('steps');
    }
  });

  it('stops recursion through define and template', () => {
    expect(failure('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}').message).toContain('exceeded maximum template depth');
  });

  it('refuses nesting deeper than its stack allows', () => {
    expect(failure('{{ ' + '('.repeat(5000) + '1' + ')'.repeat(5000) + ' }}').message).toContain('max expression depth exceeded');
    expect(failure('{{ if 1 }}'.repeat(5000) + '{{ end }}'.repeat(5000)).message).toContain('max nesting depth exceeded');
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expect(failure(`{{ fromJson \`${deep}\` }}`).message).toContain('nested more than');
  });

  it('can be given tighter limits', () => {
    expect(() => renderTemplate('out', '{{ range 100 }}x{{ end }}', data, { maxOutputBytes: 10 })).toThrow('output is larger than 10 bytes');
    expect(() => renderTemplate('out', '{{ range 100 }}{{ end }}', data, { maxSteps: 50 })).toThrow('steps');
  });
});

describe('template engine: errors', () => {
  it('names the template and Go’s line and column', () => {
    const error = failure('first line\n  second {{ .missing }}');
    expect(error).toBeInstanceOf(TemplateError);
    expect(error.template).toBe('out');
    expect([error.line, error.column]).toEqual([2, 12]);
    expect(error.message).toBe('template "out" 2:12: at <.missing>: map has no entry for key "missing"');
  });

  it('reports parse errors with their line', () => {
    const error = failure('a\nb\n{{ if }}');
    expect(error.line).toBe(3);
    expect(error.message).toContain('missing value for if');
  });

  it('says so when a function needs text and gets other bytes', () => {
    for (const fn of ['upper', 'lower', 'title', 'toJson', 'fromJson', 'toYaml', 'fromYaml']) {
      expect(failure(`{{ .bin | ${fn} }}`).message).toContain(`${fn} needs UTF-8 text`);
    }
    expect(render('{{ .bin | b64enc }}')).toBe('/wCAww==');
  });

  it.for([
    '{{ .secret | fail }}',
    '{{ required .secret .empty }}',
    '{{ eq .secret 1 }}',
    '{{ lt .secret true }}',
    '{{ range .secret }}{{ end }}',
    '{{ .secret.x }}',
    '{{ index .secret 99 }}',
    '{{ .secret | upper | indent .secret }}',
    '{{ indent (len .secret) 1 }}',
    '{{ len (fromJson .json).n }}',
    '{{ .secret | pkcs12key }}',
    '{{ .secret | pkcs12keyPass .secret }}',
    '{{ .secret | jwkPublicKeyPem }}',
    '{{ .secret | jwkPrivateKeyPem }}',
    '{{ .secret | filterPEM "CERTIFICATE" }}',
    '{{ fullPemToPkcs12 .secret .secret }}',
    '{{ get (fromJson .json) "k" | len | upper }}',
    '{{ (fromJson .json).k.x }}',
    '{{ call .secret }}',
    '{{ eq (list .secret) (list .secret) }}',
  ])('keeps values out of the message of %s', (template) => {
    const error = failure(template);
    expect(error.message).not.toContain(canary);
    expect(error.message).not.toContain('CANARY');
  });

  it('keeps a literal message of required and fail', () => {
    expect(failure('{{ required "set the password" .empty }}').message).toContain('set the password');
    expect(failure('{{ fail "stop" }}').message).toContain('error calling fail: stop');
  });

  it('parses once and renders many times', () => {
    const template = parseTemplate('greeting', 'hello {{ .name }}');
    expect(template.render(new Map([['name', Buffer.from('a')]])).toString()).toBe('hello a');
    expect(template.render({ name: Buffer.from('b') }).toString()).toBe('hello b');
  });
});
