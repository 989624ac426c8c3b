/** The organisation, project and region a request acts in, from its headers and URL. */
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest, forbidden, notFound } from './api-response.ts';
import type { Directory } from './directory.ts';
import type { Feature, OrganisationRecord, PrincipalRecord, RegionRecord } from './records.ts';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? undefined : first.trim();
}

/** The organisation of `X-Organisation-Identity` (identity or slug), which must be the principal's. */
export function resolveOrganisation(
  headers: IncomingHttpHeaders,
  principal: PrincipalRecord,
  directory: Directory,
): OrganisationRecord {
  const reference = header(headers, 'x-organisation-identity');
  if (reference === undefined) throw badRequest('X-Organisation-Identity header is required');
  const organisation = directory.findOrganisation(reference);
  if (organisation?.identity !== principal.organisation) {
    throw forbidden(`principal is not a member of organisation ${reference}`);
  }
  return organisation;
}

export function requireFeatures(organisation: OrganisationRecord, features: readonly Feature[]): void {
  for (const feature of features) {
    if (!organisation.features[feature]) {
      throw forbidden(`the ${feature} feature is not enabled for organisation ${organisation.identity}`);
    }
  }
}

export function resolveRegion(slug: string, directory: Directory): RegionRecord {
  const region = directory.regions.get(slug);
  if (region === undefined) throw notFound(`region not found: ${slug}`);
  return region;
}

/** The project of `X-Project-Identity`, or undefined for organisation scope. */
export function resolveProject(headers: IncomingHttpHeaders, organisation: OrganisationRecord): string | undefined {
  const project = header(headers, 'x-project-identity');
  if (project !== undefined && !organisation.projects.has(project)) throw notFound(`project not found: ${project}`);
  return project;
}
