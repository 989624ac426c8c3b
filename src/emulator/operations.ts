/** The API operations the emulator counts and can target with faults, one per endpoint. */
export const operations = [
  'browse',
  'list',
  'create',
  'get',
  'setPolicy',
  'addVersion',
  'reveal',
  'destroyVersion',
  'delete',
  'token',
  'kmsSummary',
] as const;
export type Operation = (typeof operations)[number];

/** Requests that match no endpoint are still counted, under this name, so totals add up. */
export type CountedOperation = Operation | 'unrouted';
