/** Everything but secrets: organisations, regions, KMS keys, principals and their credentials. */
import type {
  AccessTokenRecord,
  FederatedIdentityRecord,
  KmsKeyRecord,
  OidcClientRecord,
  OrganisationRecord,
  PrincipalRecord,
  RegionRecord,
} from './records.ts';

export class Directory {
  /** By identity. */
  readonly organisations = new Map<string, OrganisationRecord>();
  /** By slug, the only name regions are addressed by in the API. */
  readonly regions = new Map<string, RegionRecord>();
  /** By identity. */
  readonly kmsKeys = new Map<string, KmsKeyRecord>();
  /** By name. */
  readonly principals = new Map<string, PrincipalRecord>();
  /** Token to principal name. */
  readonly personalAccessTokens = new Map<string, string>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  /** By client id. */
  readonly oidcClients = new Map<string, OidcClientRecord>();
  readonly federatedIdentities: FederatedIdentityRecord[] = [];

  /** The organisation named by identity or by slug, as the `X-Organisation-Identity` header allows both. */
  findOrganisation(reference: string): OrganisationRecord | undefined {
    const byIdentity = this.organisations.get(reference);
    if (byIdentity !== undefined) return byIdentity;
    for (const organisation of this.organisations.values()) {
      if (organisation.slug === reference) return organisation;
    }
    return undefined;
  }

  kmsKeysOf(organisation: string, region: string): KmsKeyRecord[] {
    return [...this.kmsKeys.values()].filter((key) => key.organisation === organisation && key.region === region);
  }

  /** Forget expired access tokens so a long benchmark that keeps exchanging tokens does not grow without bound. */
  pruneExpiredAccessTokens(now: number): void {
    for (const [token, record] of this.accessTokens) {
      if (record.expiresAt !== undefined && record.expiresAt <= now) this.accessTokens.delete(token);
    }
  }
}
