/** What every secrets endpoint handler gets once authentication and scoping have passed. */
import type { OrganisationRecord, PrincipalRecord, RegionRecord, SecretScope } from './records.ts';
import type { EmulatorState } from './state.ts';
import type { ValueLimits } from './values.ts';

export interface SecretsContext {
  readonly state: EmulatorState;
  readonly limits: ValueLimits;
  readonly principal: PrincipalRecord;
  readonly organisation: OrganisationRecord;
  readonly region: RegionRecord;
  readonly scope: SecretScope;
  readonly query: URLSearchParams;
  readonly body: Buffer;
  readonly clientIp: string;
}
