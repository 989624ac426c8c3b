/**
Modules that only some templates need, loaded on first use. node-forge (PKCS#12) and bcryptjs
(htpasswd) cost about 10 and 5 MiB of RSS once loaded, and most installations render no template
that calls them; importing them statically made every operator pay for them at start.
*/
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** An object whose properties are those of `load()`, called the first time one is read. */
export function lazy<T extends object>(load: () => T): T {
  let loaded: T | undefined;
  const target = (): T => (loaded ??= load());
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(target(), key) as unknown,
    has: (_target, key) => Reflect.has(target(), key),
  });
}

/**
The package `name`, required the first time one of its exports is read. Both are CommonJS
packages, so a synchronous require keeps the template functions synchronous, with one instance of
the package either way. The caller states its type (`as typeof Forge`): require's is unknown.
*/
export function lazyModule(name: string): object {
  return lazy(() => require(name) as object);
}
