import { readFileSync } from 'node:fs';

/** The operator's version, from package.json, for the User-Agent and the metrics build info. */
export const version: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
