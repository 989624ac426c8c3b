/** The emulator of Thalassa Cloud's Secrets Manager API, for tests, the demo and benchmarks. */
export { startEmulator, defaultAccessTokenLifetimeSeconds, defaultMaxKeys, defaultMaxValueBytes } from './emulator.ts';
export type { Emulator, EmulatorOptions } from './emulator-types.ts';
export type { EmulatorSeed } from './seed-schema.ts';
export type { FaultConfig, ErrorFault, LatencyFault, RateLimit, OutageMode } from './fault-schema.ts';
export type { Operation, CountedOperation } from './operations.ts';
export type { CounterSnapshot, CountedStatus } from './counters.ts';
export type { PutSecretInput, SecretLocator, DestroyVersionInput, SetAccessPolicyInput } from './admin-operations.ts';
export type { TlsMaterial } from './listener.ts';
export type { Feature, KmsKeyStatus } from './records.ts';
export type { KeyValueEncoding } from './values.ts';
export { EmulatorInputError } from './input-error.ts';
export { operations } from './operations.ts';
export { demoSeed } from './demo-seed.ts';
export { signJwt, type JwtAlgorithm } from './jwt.ts';
