import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError } from './template.ts';

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
  ] as const)('renders %s', ([template, expected]) => {
    expect(renderTemplate('t', template, values)).toBe(expected);
  });

  it.for([
    ['{{ .missing }}', 'no value named "missing"'],
    ['{{ .user', 'unclosed action'],
    ['{{ exec "rm" }}', 'unknown function "exec"'],
    ['{{ }}', 'empty action'],
    ['{{ . }}', 'the whole map'],
    ['{{ printf "%s %s" .user }}', 'fewer arguments'],
    ['{{ "%%" | b64dec }}', 'not base64'],
    ['{{ .user | .password }}', 'only a function can follow'],
  ] as const)('rejects %s with a clear error', ([template, message]) => {
    expect(() => renderTemplate('t', template, values)).toThrow(TemplateError);
    expect(() => renderTemplate('t', template, values)).toThrow(message);
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
