import { describe, expect, it } from 'vitest';
import { checkTemplate, renderTemplate, renderTemplateBytes, TemplateError } from './template.ts';

const values = { password: 's3cr3t', user: 'app', 'tls.crt': 'CERT', token: 'abc' };

describe('renderTemplate', () => {
  it.for([
    ['postgres://{{ .user }}:{{ .password }}@db:5432/app', 'postgres://app:s3cr3t@db:5432/app'],
    ['{{ index . "tls.crt" }}', 'CERT'],
    ['{{ .token | b64enc }}', 'YWJj'],
    ['{{ "YWJj" | b64dec }}', 'abc'],
    ['{{ .user | upper }}-{{ "X" | lower }}', 'APP-x'],
    ['{{ printf "robot:%s" .token | b64enc }}', Buffer.from('robot:abc').toString('base64')],
    ['{{ .user | quote }}', '"app"'],
    ['{{ trim "  padded  " }}', 'padded'],
    ['a  {{- .user -}}  b', 'aappb'],
    ['{{ (printf "%s@%s" .user "db") | upper }}', 'APP@DB'],
    ['no actions at all', 'no actions at all'],
    ['{"auths":{"r":{"auth":"{{ printf "u:%s" .token | b64enc }}"}}}', `{"auths":{"r":{"auth":"${Buffer.from('u:abc').toString('base64')}"}}}`],
    // Go's behaviour, where the old subset refused (ESO renders these, so this engine does too):
    // the whole map prints as Go prints a map, and printf reports a missing argument in its output.
    ['{{ . }}', 'map[password:s3cr3t tls.crt:CERT token:abc user:app]'],
    ['{{ printf "%s %s" .user }}', 'app %!s(MISSING)'],
  ] as const)('renders %s', ([template, expected]) => {
    expect(renderTemplate('t', template, values)).toBe(expected);
  });

  // The messages are Go's (ESO's), with the template's name and Go's line:column.
  it.for([
    ['{{ .missing }}', 'template "t" 1:3: at <.missing>: map has no entry for key "missing"'],
    ['{{ .user', 'unclosed action'],
    ['{{ exec "rm" }}', 'function "exec" not defined'],
    ['{{ }}', 'missing value for command'],
    ['{{ .user | .password }}', 'password is not a method but has arguments'],
    ['{{ .constructor }}', 'map has no entry for key "constructor"'],
    ['{{ valueOf }}', 'function "valueOf" not defined'],
    // sprig would write the decoding error into the output (and so into the Secret): refused here.
    ['{{ "%%" | b64dec }}', 'error calling b64dec: illegal base64 data at input byte 0'],
  ] as const)('rejects %s with a clear error', ([template, message]) => {
    expect(() => renderTemplate('t', template, values)).toThrow(TemplateError);
    expect(() => renderTemplate('t', template, values)).toThrow(message);
  });

  it('passes binary values through byte for byte', () => {
    const data = new Map([['x', Buffer.from([0xff, 0x00, 0x80, 0xc3])]]);
    expect(renderTemplateBytes('t', '{{ .x | b64enc }}', data).toString()).toBe('/wCAww==');
    expect(renderTemplateBytes('t', '{{ .x }}', data)).toEqual(Buffer.from([0xff, 0x00, 0x80, 0xc3]));
  });

  it('checks a template without rendering it', () => {
    expect(() => checkTemplate('t', '{{ if .x }}{{ end }}')).not.toThrow();
    expect(() => checkTemplate('t', '{{ if .x }}')).toThrow('unexpected EOF');
  });

  it('never puts a value in an error message', () => {
    try {
      renderTemplate('url', '{{ .password | nosuch }}', values);
    } catch (error) {
      expect(String(error)).not.toContain('s3cr3t');
      return;
    }
    throw new Error('expected a TemplateError');
  });
});
