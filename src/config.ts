/**
The operator's configuration: command-line flags, each with an environment variable, validated
with zod. A flag beats its variable, which beats the default. A bad value stops the process with a
message that names the flag, the variable and what is wrong.
*/
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseDuration } from './controllers/poll-groups.ts';

const duration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
});

const positiveInt = z.coerce.number().int().positive();
const address = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'must be host:port, e.g. :8080 or 127.0.0.1:8080');
const bytes = z.string().transform((value, ctx) => {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'must be a number of bytes, optionally with Ki, Mi or Gi, e.g. 64Mi' });
    return z.NEVER;
  }
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
});
const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const storeRef = z.string().transform((value, ctx) => {
  const match = /^(ClusterThalassaSecretStore|ThalassaSecretStore)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(value);
  if (!match?.[1] || !match[2]) {
    ctx.addIssue({ code: 'custom', message: 'must be ClusterThalassaSecretStore/<name> or ThalassaSecretStore/<name>' });
    return z.NEVER;
  }
  return { kind: match[1] as 'ClusterThalassaSecretStore' | 'ThalassaSecretStore', name: match[2] };
});

interface Setting {
  readonly env: string;
  readonly default: string | undefined;
  readonly description: string;
  readonly schema: z.ZodType;
}

/** Every setting: flag name (without --), its environment variable, default and meaning. docs/operations.md lists them. */
export const settings = {
  kubeconfig: {
    env: 'KUBECONFIG',
    default: undefined,
    description: 'Kubeconfig file, or several separated by ":" (merged as kubectl merges them); absent: in-cluster configuration, then ~/.kube/config.',
    schema: z.string().min(1).optional(),
  },
  namespaces: {
    env: 'WATCH_NAMESPACES',
    default: '',
    description: 'Comma-separated namespaces to watch; empty: every namespace.',
    schema: z.string().transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== '')),
  },
  concurrency: { env: 'CONCURRENCY', default: '8', description: 'ThalassaSecrets reconciled at once.', schema: positiveInt.max(256) },
  'default-store': {
    env: 'DEFAULT_STORE',
    default: 'ClusterThalassaSecretStore/default',
    description: 'The store of ThalassaSecrets without storeRef.',
    schema: storeRef,
  },
  'default-refresh-interval': { env: 'DEFAULT_REFRESH_INTERVAL', default: '5m', description: 'refreshInterval of ThalassaSecrets that set none.', schema: duration },
  'queue-base-delay': { env: 'QUEUE_BASE_DELAY', default: '1s', description: 'First retry delay of a failing ThalassaSecret.', schema: duration },
  'queue-max-delay': { env: 'QUEUE_MAX_DELAY', default: '5m', description: 'Longest retry delay of a failing ThalassaSecret.', schema: duration },
  'queue-qps': { env: 'QUEUE_QPS', default: '50', description: 'Retries per second across all ThalassaSecrets.', schema: positiveInt },
  'queue-burst': { env: 'QUEUE_BURST', default: '500', description: 'Retry burst across all ThalassaSecrets.', schema: positiveInt },
  'thalassa-timeout': { env: 'THALASSA_TIMEOUT', default: '10s', description: 'Timeout of one Thalassa API request.', schema: duration },
  'thalassa-qps': { env: 'THALASSA_QPS', default: '50', description: 'Thalassa API requests per second per store, for stores without spec.rateLimit.', schema: positiveInt },
  'thalassa-burst': { env: 'THALASSA_BURST', default: '100', description: 'Thalassa API request burst per store, for stores without spec.rateLimit.', schema: positiveInt },
  'value-cache-size': {
    env: 'VALUE_CACHE_SIZE',
    default: '16Mi',
    description: 'Memory for revealed values, kept to repair an edited or deleted Secret without revealing again; a value not kept is revealed once more.',
    schema: bytes,
  },
  'value-cache-retention': {
    env: 'VALUE_CACHE_RETENTION',
    default: '2m',
    description: 'How long a revealed value is kept after its last use: long enough for the other resources of a rotation or fan-out; later repairs reveal again.',
    schema: duration,
  },
  'store-recheck-interval': { env: 'STORE_RECHECK_INTERVAL', default: '5m', description: 'How often stores re-check their credentials (they are not watched).', schema: duration },
  'restart-coalesce': { env: 'RESTART_COALESCE', default: '10s', description: 'Rotations within this window restart a workload once.', schema: duration },
  'metrics-address': { env: 'METRICS_ADDRESS', default: ':8080', description: 'Address of /metrics; "0" disables it.', schema: z.union([z.literal('0'), address]) },
  'health-address': { env: 'HEALTH_ADDRESS', default: ':8081', description: 'Address of /healthz and /readyz; "0" disables it.', schema: z.union([z.literal('0'), address]) },
  'log-level': { env: 'LOG_LEVEL', default: 'info', description: 'trace, debug, info, warn, error or silent.', schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']) },
  'log-format': { env: 'LOG_FORMAT', default: 'json', description: 'json (one object per line) or text.', schema: z.enum(['json', 'text']) },
  'leader-elect': { env: 'LEADER_ELECT', default: 'true', description: 'Run the controllers only while holding the lease.', schema: boolean },
  'leader-election-namespace': {
    env: 'LEADER_ELECTION_NAMESPACE',
    default: undefined,
    description: 'Namespace of the Lease; absent: POD_NAMESPACE, else the in-cluster namespace, else default.',
    schema: z.string().min(1).optional(),
  },
  'leader-election-id': { env: 'LEADER_ELECTION_ID', default: 'thalassa-secrets-operator', description: 'Name of the Lease.', schema: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/) },
  'lease-duration': { env: 'LEASE_DURATION', default: '15s', description: 'How long a lease is valid without renewal.', schema: duration },
  'renew-deadline': { env: 'RENEW_DEADLINE', default: '10s', description: 'How long the leader tries to renew before it gives up (and exits).', schema: duration },
  'retry-period': { env: 'RETRY_PERIOD', default: '2s', description: 'How often candidates try to acquire, and the leader renews.', schema: duration },
  shards: {
    env: 'SHARDS',
    default: 'false',
    description: 'Share the work among all replicas (docs/scaling.md): each announces itself with a Lease and reconciles the ThalassaSecrets the leader assigns to it. Needs --leader-elect.',
    schema: boolean,
  },
  'shard-key': {
    env: 'SHARD_KEY',
    default: 'uid',
    description: 'What assigns a ThalassaSecret to a member: uid (even spread) or namespace (a namespace stays on one member).',
    schema: z.enum(['uid', 'namespace']),
  },
  'shutdown-grace': { env: 'SHUTDOWN_GRACE', default: '20s', description: 'How long in-flight reconciles may finish on SIGTERM.', schema: duration },
  'pod-name': { env: 'POD_NAME', default: undefined, description: 'This replica\'s identity in the Lease; absent: the host name.', schema: z.string().min(1).optional() },
  'thalassa-subject-token-file': {
    env: 'THALASSA_SUBJECT_TOKEN_FILE',
    default: undefined,
    description: "The operator's projected ServiceAccount token, for stores with workloadIdentity and no serviceAccountRef.",
    schema: z.string().min(1).optional(),
  },
  'thalassa-service-account-id': {
    env: 'THALASSA_SERVICE_ACCOUNT_ID',
    default: undefined,
    description: 'The Thalassa service account of the operator, for such stores without serviceAccountID.',
    schema: z.string().min(1).optional(),
  },
} as const satisfies Record<string, Setting>;

type Settings = typeof settings;
type Parsed = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

export interface OperatorConfig {
  readonly kubeconfig: string | undefined;
  readonly namespaces: 'all' | readonly string[];
  readonly concurrency: number;
  readonly defaultStore: { readonly kind: 'ClusterThalassaSecretStore' | 'ThalassaSecretStore'; readonly name: string };
  readonly defaultRefreshIntervalMs: number;
  readonly queue: { readonly baseDelayMs: number; readonly maxDelayMs: number; readonly overallPerSecond: number; readonly overallBurst: number };
  readonly thalassa: { readonly timeoutMs: number; readonly defaultRateLimit: { readonly requestsPerSecond: number; readonly burst: number } };
  readonly valueCacheBytes: number;
  readonly valueCacheRetentionMs: number;
  readonly restartCoalesceMs: number;
  readonly storeRecheckMs: number;
  readonly metricsAddress: string | undefined;
  readonly healthAddress: string | undefined;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly logFormat: 'json' | 'text';
  readonly leaderElection:
    | { readonly enabled: false }
    | {
        readonly enabled: true;
        readonly namespace: string | undefined;
        readonly name: string;
        readonly identity: string | undefined;
        readonly leaseDurationMs: number;
        readonly renewDeadlineMs: number;
        readonly retryPeriodMs: number;
      };
  readonly shards: { readonly enabled: false } | { readonly enabled: true; readonly key: 'uid' | 'namespace' };
  readonly shutdownGraceMs: number;
  readonly operatorIdentity: { readonly subjectTokenFile: string | undefined; readonly serviceAccountId: string | undefined };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function usage(): string {
  const lines = ['Usage: thalassa-secrets-operator [flags]', '', 'Every flag can also be set by its environment variable.', ''];
  for (const [flag, setting] of Object.entries(settings) as [string, Setting][]) {
    const fallback = setting.default === undefined ? '' : ` (default "${setting.default}")`;
    lines.push(`  --${flag} / ${setting.env}${fallback}`, `      ${setting.description}`);
  }
  lines.push('  --help', '      Print this and exit.', '  --version', '      Print the version and exit.');
  return lines.join('\n');
}

export type ParsedCommandLine = { readonly kind: 'help' } | { readonly kind: 'version' } | { readonly kind: 'run'; readonly config: OperatorConfig };

export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const options = Object.fromEntries(Object.keys(settings).map((flag) => [flag, { type: 'string' as const }]));
  let parsedArgs: Record<string, string | boolean | undefined>;
  try {
    parsedArgs = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean' }, version: { type: 'boolean' } },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    throw new ConfigError(`${error instanceof Error ? error.message : String(error)}\n\n${usage()}`);
  }
  if (parsedArgs['help']) return { kind: 'help' };
  if (parsedArgs['version']) return { kind: 'version' };
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [flag, setting] of Object.entries(settings) as [string, Setting][]) {
    const fromFlag = parsedArgs[flag];
    const raw = typeof fromFlag === 'string' ? fromFlag : (env[setting.env] ?? setting.default);
    const result = setting.schema.safeParse(raw);
    if (result.success) values[flag] = result.data;
    else {
      const source = typeof fromFlag === 'string' ? `--${flag}` : env[setting.env] !== undefined ? setting.env : `default of --${flag}`;
      problems.push(`${source}=${JSON.stringify(raw)}: ${result.error.issues.map((i) => i.message).join('; ')}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  const v = values as Parsed;
  if (v['queue-base-delay'] > v['queue-max-delay']) throw new ConfigError('invalid configuration: --queue-base-delay must not exceed --queue-max-delay');
  if (v['leader-elect'] && !(v['lease-duration'] > v['renew-deadline'] && v['renew-deadline'] > v['retry-period'])) {
    throw new ConfigError('invalid configuration: leader election needs --lease-duration > --renew-deadline > --retry-period');
  }
  if (v.shards && !v['leader-elect']) throw new ConfigError('invalid configuration: --shards needs --leader-elect (the leader assigns the work)');
  const podName = v['pod-name'];
  if (v.shards && podName !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(podName)) {
    throw new ConfigError('invalid configuration: with --shards, --pod-name must be a DNS label (lowercase, at most 63 characters): it names a Lease and a label value');
  }
  return {
    kind: 'run',
    config: {
      kubeconfig: v.kubeconfig,
      namespaces: v.namespaces.length === 0 ? 'all' : v.namespaces,
      concurrency: v.concurrency,
      defaultStore: v['default-store'],
      defaultRefreshIntervalMs: v['default-refresh-interval'],
      queue: { baseDelayMs: v['queue-base-delay'], maxDelayMs: v['queue-max-delay'], overallPerSecond: v['queue-qps'], overallBurst: v['queue-burst'] },
      thalassa: { timeoutMs: v['thalassa-timeout'], defaultRateLimit: { requestsPerSecond: v['thalassa-qps'], burst: v['thalassa-burst'] } },
      valueCacheBytes: v['value-cache-size'],
      valueCacheRetentionMs: v['value-cache-retention'],
      restartCoalesceMs: v['restart-coalesce'],
      storeRecheckMs: v['store-recheck-interval'],
      metricsAddress: v['metrics-address'] === '0' ? undefined : v['metrics-address'],
      healthAddress: v['health-address'] === '0' ? undefined : v['health-address'],
      logLevel: v['log-level'],
      logFormat: v['log-format'],
      leaderElection: v['leader-elect']
        ? {
            enabled: true,
            namespace: v['leader-election-namespace'] ?? env['POD_NAMESPACE'],
            name: v['leader-election-id'],
            identity: v['pod-name'],
            leaseDurationMs: v['lease-duration'],
            renewDeadlineMs: v['renew-deadline'],
            retryPeriodMs: v['retry-period'],
          }
        : { enabled: false },
      shards: v.shards ? { enabled: true, key: v['shard-key'] } : { enabled: false },
      shutdownGraceMs: v['shutdown-grace'],
      operatorIdentity: { subjectTokenFile: v['thalassa-subject-token-file'], serviceAccountId: v['thalassa-service-account-id'] },
    },
  };
}
