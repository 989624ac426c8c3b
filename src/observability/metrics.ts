/**
Prometheus metrics. Names follow controller-runtime and client-go where they exist, so existing
dashboards and alerts work; the rest are prefixed `thalassa_`. No label ever carries a value, a
token or a secret path (paths are unbounded and may reveal structure); resources appear only as
counts.
*/
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { version } from '../version.ts';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const lagBuckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export interface QueueSource {
  readonly length: number;
  longestRunningMs(): number;
}

export class Metrics {
  readonly registry = new Registry();
  /** Queues whose depth and longest-running work are read at scrape time. */
  readonly #queues = new Map<string, QueueSource>();

  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Reconciliations per controller and result (success, error, requeue_after).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Reconciliations that failed, per controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Time per reconciliation.',
    labelNames: ['controller'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Workers reconciling right now.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });

  readonly workqueueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Keys waiting in the work queue.',
    labelNames: ['name'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [name, queue] of this.#queues) this.workqueueDepth.set({ name }, queue.length);
    },
  });
  readonly workqueueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Adds to the work queue, per priority lane.',
    labelNames: ['name', 'priority'] as const,
    registers: [this.registry],
  });
  readonly workqueueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Rate-limited re-adds after a failure.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueQueueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'Time a key waits in the queue before a worker takes it.',
    labelNames: ['name', 'priority'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly workqueueWorkDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'Time a worker spends on a key.',
    labelNames: ['name'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly workqueueLongestRunning = new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How long the longest-running worker has been busy with its key.',
    labelNames: ['name'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [name, queue] of this.#queues) this.workqueueLongestRunning.set({ name }, queue.longestRunningMs() / 1000);
    },
  });

  readonly thalassaRequests = new Counter({
    name: 'thalassa_api_requests_total',
    help: 'Thalassa API requests per operation and HTTP status ("error" when no answer came).',
    labelNames: ['operation', 'status'] as const,
    registers: [this.registry],
  });
  readonly thalassaRequestDuration = new Histogram({
    name: 'thalassa_api_request_duration_seconds',
    help: 'Thalassa API request latency per operation.',
    labelNames: ['operation'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly reveals = new Counter({
    name: 'thalassa_secret_reveals_total',
    help: 'Secret values revealed (each one a KMS decrypt and an audit record in Thalassa).',
    registers: [this.registry],
  });
  readonly secretWrites = new Counter({
    name: 'thalassa_secret_writes_total',
    help: 'Kubernetes Secrets written, per kind of write: create, update (new versions or spec), repair (changed by someone else), metadata (labels, annotations, owner only), delete.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly rotations = new Counter({
    name: 'thalassa_rotations_total',
    help: 'New versions that reached a Secret after its first sync.',
    registers: [this.registry],
  });
  readonly rotationLag = new Histogram({
    name: 'thalassa_rotation_lag_seconds',
    help: 'Time from a version being published in Thalassa to the Secret holding it.',
    buckets: lagBuckets,
    registers: [this.registry],
  });
  readonly rolloutRestarts = new Counter({
    name: 'thalassa_rollout_restarts_total',
    help: 'Workload restarts triggered, per workload kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly pollRequests = new Counter({
    name: 'thalassa_poll_requests_total',
    help: 'Version checks made by the poller, per kind (list, metadata).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly managedResources = new Gauge({
    name: 'thalassa_managed_resources',
    help: 'ThalassaSecrets per Ready condition status and reason.',
    labelNames: ['status', 'reason'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'leader_election_master_status',
    help: '1 when this replica is the leader, 0 otherwise.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly shardAssigned = new Gauge({
    name: 'thalassa_shard_assigned_resources',
    help: 'Sharded mode: ThalassaSecrets assigned to this member (its cache).',
    registers: [this.registry],
  });
  readonly shardHandovers = new Counter({
    name: 'thalassa_shard_handovers_total',
    help: 'Sharded mode: ThalassaSecrets this member took over (in) or let go after a drain request (out).',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly shardMoves = new Counter({
    name: 'thalassa_shard_moves_total',
    help: 'Sharded mode, on the sharder: writes by kind (assign: an unassigned object, or one of a released or fenced member; drain: a live owner asked to let go; undrain: kept by its owner after all; fence: the Lease of a member that stopped renewing taken over).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly shardRingChanges = new Counter({
    name: 'thalassa_shard_ring_changes_total',
    help: 'Sharded mode, on the sharder: times the set of live members changed.',
    registers: [this.registry],
  });
  readonly shardMembers = new Gauge({
    name: 'thalassa_shard_members',
    help: 'Sharded mode, on the sharder: live members in the ring.',
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'thalassa_watch_restarts_total',
    help: 'Kubernetes list/watch restarts per resource and reason (expired; error; ended: the watch ended at once without an event, and is reopened after a pause).',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });
  readonly kubeRetries = new Counter({
    name: 'thalassa_kube_request_retries_total',
    help: 'Kubernetes API requests sent again, per method and the status retried (429 when the API server throttled the operator; "error" when no answer came).',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });
  readonly buildInfo = new Gauge({
    name: 'thalassa_operator_build_info',
    help: 'Always 1; the version label says which build runs.',
    labelNames: ['version'] as const,
    registers: [this.registry],
  });

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.buildInfo.set({ version }, 1);
  }

  trackQueue(name: string, queue: QueueSource): void {
    this.#queues.set(name, queue);
  }

  /** The client hook for one Thalassa API attempt. */
  recordThalassaRequest(operation: string, status: number | 'error', durationMs: number): void {
    this.thalassaRequests.inc({ operation, status: String(status) });
    this.thalassaRequestDuration.observe({ operation }, durationMs / 1000);
    if (operation === 'reveal' && status === 200) this.reveals.inc();
  }
}
