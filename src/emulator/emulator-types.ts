/** The public shape of a running emulator and the options that start one. */
import type {
  DestroyVersionInput,
  PutSecretInput,
  SecretLocator,
  SetAccessPolicyInput,
} from './admin-operations.ts';
import type { CounterSnapshot } from './counters.ts';
import type { FaultConfig } from './fault-schema.ts';
import type { TlsMaterial } from './listener.ts';
import type { Feature, KmsKeyStatus } from './records.ts';
import type { EmulatorSeed } from './seed-schema.ts';
import type { KeyValueEncoding } from './values.ts';

export interface EmulatorOptions {
  /** API port; 0 (the default) picks a free one. */
  readonly port?: number | undefined;
  /** Default 127.0.0.1, for both listeners. */
  readonly host?: string | undefined;
  /** Admin port; 0 (the default) picks a free one. */
  readonly adminPort?: number | undefined;
  /** PEM certificate and key: the API listener then speaks HTTPS (admin stays plain HTTP). */
  readonly tls?: TlsMaterial | undefined;
  /** Load this state file at start when it exists, and write it (debounced, atomically) after changes. */
  readonly persistFile?: string | undefined;
  readonly seed?: EmulatorSeed | undefined;
  readonly faults?: FaultConfig | undefined;
  /** Lifetime of access tokens the OIDC endpoint issues when the request names none. Default 3600. */
  readonly accessTokenLifetimeSeconds?: number | undefined;
  /** Decoded bytes per version (key/value: keys plus values). Default 65536. */
  readonly maxValueBytes?: number | undefined;
  /** Keys per key/value version. Default 256. */
  readonly maxKeys?: number | undefined;
  /** `raw` (default): key/value values are opaque strings; `base64`: each must be valid base64. */
  readonly keyValueEncoding?: KeyValueEncoding | undefined;
  /** Seeds the PRNG behind fault decisions so a run repeats exactly. */
  readonly randomSeed?: number | undefined;
  /** Wall clock in epoch ms: timestamps, token and JWT expiry, time-window policies. */
  readonly now?: (() => number) | undefined;
}

export interface Emulator {
  /** API base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Admin endpoint base URL (separate listener). */
  readonly adminUrl: string;
  /** The current fault configuration (a copy). */
  readonly faults: FaultConfig;
  seed(seed: EmulatorSeed): void;
  putSecret(input: PutSecretInput): number;
  destroyVersion(input: DestroyVersionInput): void;
  deleteSecret(input: SecretLocator): void;
  setAccessPolicy(input: SetAccessPolicyInput): void;
  setKmsKeyStatus(identity: string, status: KmsKeyStatus): void;
  setRegionKms(slug: string, available: boolean): void;
  setFeature(organisation: string, feature: Feature, enabled: boolean): void;
  setFaults(faults: FaultConfig): void;
  /** Resolves once the API listener reflects the last outage change (refused or listening again). */
  settled(): Promise<void>;
  counters(): CounterSnapshot;
  resetCounters(): void;
  /** The emulator's clock, in epoch ms. */
  now(): number;
  stop(): Promise<void>;
}
