/**
CLI: `npm run emulator -- [--port 8480] [--admin-port PORT+1] [--host 127.0.0.1] [--seed FILE]
[--persist FILE] [--latency-ms N] [--tls-cert FILE --tls-key FILE] [--key-value-encoding raw|base64]`.
Without --seed it serves the built-in demo seed.
*/
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { demoSeed, startEmulator, type EmulatorOptions, type EmulatorSeed } from './index.ts';

const defaultPort = 8480;

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`--${name} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

function optionsFromArgs(argv: string[]): EmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      'admin-port': { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      persist: { type: 'string' },
      'latency-ms': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'key-value-encoding': { type: 'string' },
    },
  });
  const port = integer('port', values.port, defaultPort);
  const latencyMs = integer('latency-ms', values['latency-ms'], 0);
  const encoding = values['key-value-encoding'] ?? 'raw';
  if (encoding !== 'raw' && encoding !== 'base64') throw new Error('--key-value-encoding must be raw or base64');
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new Error('--tls-cert and --tls-key go together');
  }
  const seed =
    values.seed === undefined ? demoSeed : (JSON.parse(readFileSync(values.seed, 'utf8')) as EmulatorSeed);
  return {
    port,
    adminPort: integer('admin-port', values['admin-port'], port === 0 ? 0 : port + 1),
    host: values.host ?? '127.0.0.1',
    seed,
    persistFile: values.persist,
    keyValueEncoding: encoding,
    faults: latencyMs > 0 ? { latency: { fixedMs: latencyMs } } : {},
    tls:
      values['tls-cert'] === undefined || values['tls-key'] === undefined
        ? undefined
        : { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']) },
  };
}

async function main(): Promise<void> {
  const emulator = await startEmulator(optionsFromArgs(process.argv.slice(2)));
  console.log(`thalassa emulator api: ${emulator.url}`);
  console.log(`thalassa emulator admin: ${emulator.adminUrl}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`stopping the emulator failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
