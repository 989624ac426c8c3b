/** `GET /v1/kms/summary`: per-region key counts for the caller's organisation, a readiness probe for clients. */
import type { ApiResponse } from './api-response.ts';
import type { Directory } from './directory.ts';
import type { OrganisationRecord } from './records.ts';

export function kmsSummary(directory: Directory, organisation: OrganisationRecord): ApiResponse {
  const regions = [...directory.regions.values()].map((region) => {
    const keys = directory.kmsKeysOf(organisation.identity, region.slug);
    const active = keys.filter((key) => key.status === 'active').length;
    return {
      identity: region.identity,
      name: region.name,
      slug: region.slug,
      kmsAvailable: region.kms,
      totalKeys: keys.length,
      activeKeys: active,
      disabledKeys: keys.length - active,
      pendingDeletionKeys: 0,
    };
  });
  return { status: 200, body: { featureEnabled: organisation.features.kms, regions } };
}
