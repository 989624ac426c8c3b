import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const parsed = parseConfig(argv, env);
  if (parsed.kind !== 'run') throw new Error(`expected a run configuration, got ${parsed.kind}`);
  return parsed.config;
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = run([]);
    expect(config.namespaces).toBe('all');
    expect(config.concurrency).toBe(8);
    expect(config.defaultStore).toEqual({ kind: 'ClusterThalassaSecretStore', name: 'default' });
    expect(config.valueCacheBytes).toBe(16 * 1024 * 1024);
    expect(config.valueCacheRetentionMs).toBe(120_000);
    expect(config.leaderElection).toMatchObject({ enabled: true, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    expect(config.metricsAddress).toBe(':8080');
  });

  it('prefers a flag to its variable, and a variable to the default', () => {
    expect(run(['--concurrency=3'], { CONCURRENCY: '5' }).concurrency).toBe(3);
    expect(run([], { CONCURRENCY: '5', WATCH_NAMESPACES: 'a, b' })).toMatchObject({ concurrency: 5, namespaces: ['a', 'b'] });
    expect(run([], { POD_NAMESPACE: 'ops' }).leaderElection).toMatchObject({ namespace: 'ops' });
  });

  it('keeps sharding off by default; --shards needs leader election and a member name that is a DNS label', () => {
    expect(run([]).shards).toEqual({ enabled: false });
    expect(run(['--shards=true']).shards).toEqual({ enabled: true, key: 'uid' });
    expect(run([], { SHARDS: 'true', SHARD_KEY: 'namespace', POD_NAME: 'tso-7d9f8-x2k4q' }).shards).toEqual({ enabled: true, key: 'namespace' });
    expect(() => run(['--shards=true', '--leader-elect=false'])).toThrow(/--shards needs --leader-elect/);
    expect(() => run(['--shards=true', '--pod-name=Not_A_Label'])).toThrow(/must be a DNS label/);
    expect(() => run(['--shard-key=name'])).toThrow(ConfigError);
  });

  it('reads the workload identity variables the Thalassa webhook injects', () => {
    const config = run([], { THALASSA_SUBJECT_TOKEN_FILE: '/var/run/secrets/thalassa/token', THALASSA_SERVICE_ACCOUNT_ID: 'sa-1' });
    expect(config.operatorIdentity).toEqual({ subjectTokenFile: '/var/run/secrets/thalassa/token', serviceAccountId: 'sa-1' });
  });

  it('turns off endpoints with 0 and leader election with false', () => {
    const config = run(['--metrics-address=0', '--health-address=0', '--leader-elect=false']);
    expect(config.metricsAddress).toBeUndefined();
    expect(config.healthAddress).toBeUndefined();
    expect(config.leaderElection.enabled).toBe(false);
  });

  it.for([
    [['--default-store=default'], '--default-store'],
    [['--value-cache-size=lots'], '--value-cache-size'],
    [['--queue-base-delay=10m', '--queue-max-delay=1m'], '--queue-base-delay must not exceed'],
    [['--health-address=localhost'], '--health-address'],
    [['stray'], 'Unexpected argument'],
  ] as const)('rejects %s', ([argv, named]) => {
    expect(() => run([...argv])).toThrow(ConfigError);
    expect(() => run([...argv])).toThrow(named);
  });
});
