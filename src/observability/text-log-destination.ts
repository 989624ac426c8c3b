import { Writable } from 'node:stream';

/**
Turns pino's JSON lines into one readable line each (`time LEVEL message key=value ...`), for
`--log-format text`. Redaction has happened before the line gets here.
*/
export function textLogDestination(out: NodeJS.WritableStream = process.stdout): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') out.write(`${formatLine(line)}\n`);
      }
      done();
    },
  });
}

export function formatLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, name: _name, ...rest } = record;
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
  const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');
  return [text(time), text(level).toUpperCase().padEnd(5), text(msg), fields].filter((p) => p.trim() !== '').join(' ');
}
