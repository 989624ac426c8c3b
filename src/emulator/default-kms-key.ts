/**
Seeded and admin-put secrets may leave out their KMS key: they get the organisation's first key in
the region, and when it has none, one is created so that seeds stay short.
*/
import type { KmsKeyRecord } from './records.ts';
import type { EmulatorState } from './state.ts';

export function defaultKmsKey(state: EmulatorState, organisation: string, region: string): KmsKeyRecord {
  const keys = state.directory.kmsKeysOf(organisation, region);
  const existing = keys.find((key) => key.status === 'active') ?? keys[0];
  if (existing !== undefined) return existing;
  const identity = `kms-default-${organisation}-${region}`;
  const key: KmsKeyRecord = { identity, name: identity, organisation, region, status: 'active' };
  state.directory.kmsKeys.set(identity, key);
  return key;
}
