#!/usr/bin/env node
/**
The operator process: configuration, logging, metrics and health endpoints, leader election, and
an orderly shutdown. The controllers (src/operator.ts) run only while this replica leads.
*/
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { ConfigError, parseConfig, usage, type OperatorConfig } from './config.ts';
import { loadConnection } from './kube/connection.ts';
import { KubeClient, type KubeRetryEvent } from './kube/kube-client.ts';
import { closeServer, serveHealth, serveMetrics } from './observability/http-endpoints.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { textLogDestination } from './observability/text-log-destination.ts';
import { Operator } from './operator.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { memberLeaseName, shardMemberLabel, shardRingLabel } from './sharding/labels.ts';
import { version } from './version.ts';

const inClusterNamespaceFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function leaseNamespace(configured: string | undefined): string {
  if (configured) return configured;
  try {
    return readFileSync(inClusterNamespaceFile, 'utf8').trim();
  } catch {
    return 'default';
  }
}

/** Counts ThalassaSecrets per Ready status and reason for the thalassa_managed_resources gauge. */
function updateResourceGauge(metrics: Metrics, operator: Operator): void {
  const counts = new Map<string, number>();
  for (const resource of operator.resources()) {
    const ready = resource.status?.conditions?.find((c) => c.type === 'Ready');
    const key = `${ready?.status ?? 'Unknown'}\u0000${ready?.reason ?? 'Pending'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  metrics.managedResources.reset();
  for (const [key, count] of counts) {
    const [status = 'Unknown', reason = 'Pending'] = key.split('\u0000');
    metrics.managedResources.set({ status, reason }, count);
  }
}

async function run(config: OperatorConfig, logger: Logger): Promise<void> {
  const metrics = new Metrics();
  const connection = await loadConnection(config.kubeconfig);
  const onRetry = (retry: KubeRetryEvent): void => {
    metrics.kubeRetries.inc({ method: retry.method, status: retry.status === undefined ? 'error' : String(retry.status) });
  };
  const kube = new KubeClient(connection, { onRetry });
  const election = config.leaderElection;
  const shards = election.enabled && config.shards.enabled ? { election, key: config.shards.key } : undefined;
  const sharded = shards !== undefined;
  const rawIdentity = election.enabled ? (election.identity ?? `${hostname()}-${process.pid}`) : hostname();
  // A shard member's identity names its Lease and is a label value: a DNS label.
  const identity = sharded ? dnsLabel(rawIdentity) : rawIdentity;
  const leaseName = election.enabled ? election.name : '';
  const namespace = election.enabled ? leaseNamespace(election.namespace) : '';
  // Sharded, the leader's own work (the sharder, stores' status, ClusterThalassaSecrets) has a client fenced by the leader lease.
  const leaderKube = sharded ? new KubeClient(connection, { onRetry }) : undefined;
  const operator = new Operator({
    ...config,
    kube,
    logger,
    metrics,
    operatorIdentity: config.operatorIdentity,
    ...(shards && leaderKube
      ? { shard: { member: identity, ring: shards.election.name, leaseNamespace: namespace, leaseDurationMs: shards.election.leaseDurationMs, key: shards.key, leaderKube } }
      : {}),
  });
  let shuttingDown = false;
  const member = shards
      ? new LeaderElector({
          // A lease of its own that no one else campaigns for: held while this member lives, renewed like the leader's.
          kube: new KubeClient(connection, { onRetry }),
          namespace,
          name: memberLeaseName(shards.election.name, identity),
          identity,
          labels: { [shardRingLabel]: shards.election.name, [shardMemberLabel]: identity },
          leaseDurationMs: shards.election.leaseDurationMs,
          renewDeadlineMs: shards.election.renewDeadlineMs,
          retryPeriodMs: shards.election.retryPeriodMs,
          logger: logger.child({ component: 'shard-member' }),
          onStartedLeading: () => operator.start(),
          onStoppedLeading: () => {
            // The sharder moves this member's share once the lease has expired: stop writing now.
            logger.error('lost the shard member lease; exiting so that only the new owners write');
            process.exit(1);
          },
        })
      : undefined;
  const elector = election.enabled
      ? new LeaderElector({
      // Its own client: the operator's is fenced by the lease, and renewals must not queue behind a busy pool.
      kube: new KubeClient(connection, { onRetry }),
      namespace,
      name: election.name,
      identity,
      leaseDurationMs: election.leaseDurationMs,
      renewDeadlineMs: election.renewDeadlineMs,
      retryPeriodMs: election.retryPeriodMs,
      logger,
      onStartedLeading: () => {
        metrics.leader.set({ name: leaseName }, 1);
        if (sharded) operator.startLeading();
        else operator.start();
      },
      onStoppedLeading: () => {
        // Another replica may lead within the lease duration: stop writing now, restart clean.
        metrics.leader.set({ name: leaseName }, 0);
        logger.error('lost leadership; exiting so that only the new leader writes');
        process.exit(1);
      },
      onNewLeader: (leader) => logger.info({ leader }, 'leader observed'),
    })
    : undefined;
  // A replica that stopped renewing (frozen, cut off) writes nothing more, even before its renew
  // loop notices and exits: the successor may already be writing.
  // Sharded: a member writes while it holds its own lease; the leader's work needs both leases.
  if (member && elector) {
    kube.fenceWrites(() => member.holdsLease());
    leaderKube?.fenceWrites(() => elector.holdsLease() && member.holdsLease());
  } else if (elector) kube.fenceWrites(() => elector.holdsLease());
  const servers: Server[] = [];
  const gaugeTimer = setInterval(() => updateResourceGauge(metrics, operator), 15_000);
  gaugeTimer.unref();

  if (config.healthAddress) {
    servers.push(
      await serveHealth(config.healthAddress, {
        live: () => !shuttingDown,
        ready: () => {
          const leading = !elector || elector.isLeader;
          const synced = operator.hasSynced;
          // A standby is ready once it knows who leads; the leader once its caches are real; a shard member once its share is cached.
          const working = member ? member.isLeader : leading;
          const ready = !shuttingDown && (working ? synced : elector?.leader !== undefined);
          return { ready, detail: { leader: leading, synced, identity, ...(member ? { member: member.isLeader } : {}) } };
        },
      }),
    );
  }
  if (config.metricsAddress) servers.push(await serveMetrics(config.metricsAddress, metrics.registry));

  const campaign = new AbortController();
  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    campaign.abort();
    await operator.stop(config.shutdownGraceMs);
    // The member lease first: the sharder moves this member's share at once, without waiting for expiry.
    await member?.release();
    await elector?.release();
    clearInterval(gaugeTimer);
    await Promise.all(servers.map(async (server) => await closeServer(server)));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  logger.info(
    { version, identity, namespaces: config.namespaces, leaderElection: election.enabled, shards: sharded, concurrency: config.concurrency },
    'starting thalassa-secrets-operator',
  );
  if (!elector) {
    operator.start();
    return;
  }
  metrics.leader.set({ name: leaseName }, 0);
  if (member) void member.run(campaign.signal);
  void elector.run(campaign.signal);
}

/** A DNS label from a host name and pid: lowercase, [a-z0-9-], at most 63 characters. */
function dnsLabel(text: string): string {
  const label = text.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return label === '' ? `member-${process.pid}` : label;
}

function main(): void {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`thalassa-secrets-operator: ${error.message}\n`);
    process.exit(2);
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${version}\n`);
    return;
  }
  const config = parsed.config;
  const logger = createLogger({ level: config.logLevel, ...(config.logFormat === 'text' ? { destination: textLogDestination() } : {}) });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled rejection');
    process.exit(1);
  });
  run(config, logger).catch((error: unknown) => {
    logger.fatal({ err: error }, 'could not start');
    process.exit(1);
  });
}

main();
