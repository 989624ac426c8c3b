/** Starts the API and admin listeners around one model, fault injector and set of counters. */
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  deleteSecretAt,
  destroySecretVersion,
  putSecret,
  setFeature,
  setKmsKeyStatus,
  setRegionKms,
  setSecretAccessPolicy,
} from './admin-operations.ts';
import { createAdminRequestListener } from './admin-server.ts';
import { createApiRequestListener } from './api-server.ts';
import { applySeed } from './apply-seed.ts';
import { Counters } from './counters.ts';
import type { Emulator, EmulatorOptions } from './emulator-types.ts';
import { FaultInjector } from './fault-injector.ts';
import { faultConfigSchema, type FaultConfig } from './fault-schema.ts';
import { EmulatorInputError } from './input-error.ts';
import { Listener } from './listener.ts';
import { seededRandom } from './prng.ts';
import { restoreState, serializeState } from './snapshot.ts';
import { EmulatorState } from './state.ts';
import { readStateFile, StateFileWriter } from './state-file.ts';
import type { ValueLimits } from './values.ts';
import { describeZodError } from './zod-message.ts';

export const defaultAccessTokenLifetimeSeconds = 3600;
export const defaultMaxValueBytes = 65_536;
export const defaultMaxKeys = 256;

function parseFaults(faults: unknown): FaultConfig {
  const parsed = faultConfigSchema.safeParse(faults);
  if (!parsed.success) throw new EmulatorInputError(`invalid fault configuration: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

async function loadState(options: EmulatorOptions): Promise<{ state: EmulatorState; writer?: StateFileWriter }> {
  const state = new EmulatorState(options.now ?? Date.now);
  if (options.persistFile === undefined) return { state };
  const text = await readStateFile(options.persistFile);
  if (text !== undefined) restoreState(state, text);
  const writer = new StateFileWriter(options.persistFile, () => serializeState(state));
  state.onChange(() => {
    writer.markDirty();
  });
  return { state, writer };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const { state, writer } = await loadState(options);
  if (options.seed !== undefined) applySeed(state, options.seed);
  const limits: ValueLimits = {
    maxValueBytes: options.maxValueBytes ?? defaultMaxValueBytes,
    maxKeys: options.maxKeys ?? defaultMaxKeys,
    keyValueEncoding: options.keyValueEncoding ?? 'raw',
  };
  const faults = new FaultInjector(
    parseFaults(options.faults ?? {}),
    seededRandom(options.randomSeed ?? randomInt(2 ** 32)),
    () => performance.now(),
  );
  const counters = new Counters();
  const shutdown = new AbortController();
  const api = await Listener.start(
    createApiRequestListener({
      state,
      faults,
      counters,
      limits,
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? defaultAccessTokenLifetimeSeconds,
      shutdown: shutdown.signal,
    }),
    { host, port: options.port ?? 0, tls: options.tls },
  );
  const followOutage = (): void => {
    if (faults.outage === 'refuse') api.refuse();
    else api.resume();
  };
  followOutage();

  let admin: Listener | undefined;
  const emulator: Emulator = {
    url: api.url,
    get adminUrl() {
      return admin?.url ?? '';
    },
    get faults() {
      return faults.config;
    },
    seed: (seed) => {
      applySeed(state, seed);
    },
    putSecret: (input) => putSecret(state, input),
    destroyVersion: (input) => {
      destroySecretVersion(state, input);
    },
    deleteSecret: (input) => {
      deleteSecretAt(state, input);
    },
    setAccessPolicy: (input) => {
      setSecretAccessPolicy(state, input);
    },
    setKmsKeyStatus: (identity, status) => {
      setKmsKeyStatus(state, identity, status);
    },
    setRegionKms: (slug, available) => {
      setRegionKms(state, slug, available);
    },
    setFeature: (organisation, feature, enabled) => {
      setFeature(state, organisation, feature, enabled);
    },
    setFaults: (config) => {
      faults.configure(parseFaults(config));
      followOutage();
    },
    settled: async () => {
      await api.settled();
    },
    counters: () => counters.snapshot(),
    resetCounters: () => {
      counters.reset();
    },
    now: () => state.now(),
    stop: async () => {
      shutdown.abort();
      await Promise.all([api.stop(), admin?.stop()]);
      await writer?.flush();
    },
  };
  try {
    admin = await Listener.start(createAdminRequestListener(emulator), { host, port: options.adminPort ?? 0 });
  } catch (error) {
    await api.stop();
    throw error;
  }
  return emulator;
}
