import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lazy } from './lazy-module.ts';

describe('lazy', () => {
  it('loads on the first property read, once', () => {
    let loads = 0;
    const value = lazy(() => {
      loads++;
      return { answer: 42, nested: { x: 1 } };
    });
    expect(loads).toBe(0);
    expect(value.answer).toBe(42);
    expect('nested' in value).toBe(true);
    expect(value.nested.x).toBe(1);
    expect(loads).toBe(1);
  });

  it('leaves node-forge and bcryptjs unloaded until a template calls a function that needs them', async () => {
    const cache = createRequire(import.meta.url).cache;
    const loaded = (name: string) => Object.keys(cache).some((path) => path.includes(`/node_modules/${name}/`));
    const { renderTemplate } = await import('./index.ts');
    const render = (template: string) => renderTemplate('t', template, new Map([['v', Buffer.from('x')]])).toString('utf8');
    expect(render('{{ .v | upper }}')).toBe('X');
    expect(loaded('node-forge')).toBe(false);
    expect(loaded('bcryptjs')).toBe(false);
    expect(render('{{ htpasswd "u" "p" | len | lt 10 }}')).toBe('true');
    expect(loaded('bcryptjs')).toBe(true);
  });
});
