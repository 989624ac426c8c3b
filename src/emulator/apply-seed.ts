/**
Applies a seed on top of the current model. Organisations, regions, keys, principals and credentials
are upserted by their identity or name; a secret whose path already exists in its scope is left as it
is, so applying the same seed twice (or a seed over a persisted state) changes nothing. All references
are checked before anything is applied, so a bad seed leaves the model untouched.
*/
import { pathProblem } from '../thalassa/paths.ts';
import { validateAccessPolicy } from './access-policy.ts';
import { defaultKmsKey } from './default-kms-key.ts';
import { EmulatorInputError } from './input-error.ts';
import type { PermissionAction, StoredValue } from './records.ts';
import { seedSchema, type ParsedSeed, type SecretSeed } from './seed-schema.ts';
import type { EmulatorState } from './state.ts';
import { describeZodError } from './zod-message.ts';

/** Answers reference questions against the model as it will be once the seed is applied. */
class SeedView {
  readonly #state: EmulatorState;
  readonly #seed: ParsedSeed;

  constructor(state: EmulatorState, seed: ParsedSeed) {
    this.#state = state;
    this.#seed = seed;
  }

  organisation(reference: string): string | undefined {
    const seeded = this.#seed.organisations?.find((o) => o.identity === reference || o.slug === reference);
    return seeded?.identity ?? this.#state.directory.findOrganisation(reference)?.identity;
  }

  hasProject(organisation: string, project: string): boolean {
    const seeded = this.#seed.organisations?.some((o) => o.identity === organisation && o.projects?.includes(project));
    return seeded === true || this.#state.directory.organisations.get(organisation)?.projects.has(project) === true;
  }

  hasRegion(slug: string): boolean {
    return this.#seed.regions?.some((r) => r.slug === slug) === true || this.#state.directory.regions.has(slug);
  }

  hasPrincipal(name: string): boolean {
    return this.#seed.principals?.some((p) => p.name === name) === true || this.#state.directory.principals.has(name);
  }

  kmsKey(identity: string): { organisation: string | undefined; region: string } | undefined {
    const seeded = this.#seed.kmsKeys?.find((k) => k.identity === identity);
    if (seeded !== undefined) return { organisation: this.organisation(seeded.organisation), region: seeded.region };
    return this.#state.directory.kmsKeys.get(identity);
  }
}

function checkReferences(view: SeedView, seed: ParsedSeed): string[] {
  const problems: string[] = [];
  const organisation = (where: string, reference: string): string | undefined => {
    const identity = view.organisation(reference);
    if (identity === undefined) problems.push(`${where}: unknown organisation ${reference}`);
    return identity;
  };
  const region = (where: string, slug: string): void => {
    if (!view.hasRegion(slug)) problems.push(`${where}: unknown region ${slug}`);
  };
  const principal = (where: string, name: string): void => {
    if (!view.hasPrincipal(name)) problems.push(`${where}: unknown principal ${name}`);
  };
  for (const key of seed.kmsKeys ?? []) {
    organisation(`kms key ${key.identity}`, key.organisation);
    region(`kms key ${key.identity}`, key.region);
  }
  for (const entry of seed.principals ?? []) organisation(`principal ${entry.name}`, entry.organisation);
  for (const token of seed.personalAccessTokens ?? []) principal('personal access token', token.principal);
  for (const token of seed.accessTokens ?? []) principal('access token', token.principal);
  for (const client of seed.oidcClients ?? []) principal(`oidc client ${client.clientId}`, client.principal);
  for (const identity of seed.federatedIdentities ?? []) {
    organisation(`federated identity ${identity.serviceAccountId}`, identity.organisation);
    principal(`federated identity ${identity.serviceAccountId}`, identity.principal);
  }
  for (const secret of seed.secrets ?? []) {
    const where = `secret ${secret.path}`;
    const problem = pathProblem(secret.path, 'path');
    if (problem !== undefined) problems.push(`${where}: invalid path: ${problem}`);
    const owner = organisation(where, secret.organisation);
    region(where, secret.region);
    if (owner !== undefined && secret.project !== undefined && !view.hasProject(owner, secret.project)) {
      problems.push(`${where}: organisation ${secret.organisation} has no project ${secret.project}`);
    }
    if (secret.accessPolicy) {
      try {
        validateAccessPolicy(secret.accessPolicy);
      } catch (error) {
        problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (secret.kmsKeyIdentity !== undefined) {
      const key = view.kmsKey(secret.kmsKeyIdentity);
      if (key === undefined || key.organisation !== owner || key.region !== secret.region) {
        problems.push(`${where}: kms key ${secret.kmsKeyIdentity} is not a key of that organisation and region`);
      }
    }
  }
  return problems;
}

function applyDirectory(state: EmulatorState, seed: ParsedSeed): void {
  const { directory } = state;
  for (const entry of seed.organisations ?? []) {
    const existing = directory.organisations.get(entry.identity);
    const organisation = existing ?? {
      identity: entry.identity,
      slug: undefined,
      name: entry.identity,
      features: { secrets: true, kms: true },
      projects: new Set<string>(),
    };
    organisation.slug = entry.slug ?? organisation.slug;
    organisation.name = entry.name ?? entry.slug ?? organisation.name;
    organisation.features.secrets = entry.features?.secrets ?? organisation.features.secrets;
    organisation.features.kms = entry.features?.kms ?? organisation.features.kms;
    for (const project of entry.projects ?? []) organisation.projects.add(project);
    directory.organisations.set(entry.identity, organisation);
  }
  for (const entry of seed.regions ?? []) {
    const existing = directory.regions.get(entry.slug);
    directory.regions.set(entry.slug, {
      slug: entry.slug,
      identity: entry.identity ?? existing?.identity ?? `region-${entry.slug}`,
      name: entry.name ?? existing?.name ?? entry.slug,
      kms: entry.kms ?? existing?.kms ?? true,
    });
  }
  const organisationOf = (reference: string): string => directory.findOrganisation(reference)?.identity ?? reference;
  for (const entry of seed.kmsKeys ?? []) {
    directory.kmsKeys.set(entry.identity, {
      identity: entry.identity,
      name: entry.name ?? entry.identity,
      organisation: organisationOf(entry.organisation),
      region: entry.region,
      status: entry.status ?? 'active',
    });
  }
  for (const entry of seed.principals ?? []) {
    directory.principals.set(entry.name, {
      name: entry.name,
      organisation: organisationOf(entry.organisation),
      permissions: entry.permissions.map((permission) => ({
        actions: new Set<PermissionAction>(permission.actions),
        resources: permission.resources ?? [],
      })),
    });
  }
  for (const entry of seed.personalAccessTokens ?? []) directory.personalAccessTokens.set(entry.token, entry.principal);
  for (const entry of seed.accessTokens ?? []) {
    const expiresAt = entry.expiresAt === undefined ? undefined : Date.parse(entry.expiresAt);
    directory.accessTokens.set(entry.token, { principal: entry.principal, expiresAt });
  }
  for (const entry of seed.oidcClients ?? []) directory.oidcClients.set(entry.clientId, { ...entry });
  for (const entry of seed.federatedIdentities ?? []) {
    const record = {
      serviceAccountId: entry.serviceAccountId,
      organisation: organisationOf(entry.organisation),
      principal: entry.principal,
      subject: entry.subject,
      audiences: entry.audiences,
      issuer: entry.issuer,
      publicKeyPem: entry.publicKeyPem,
    };
    const same = directory.federatedIdentities.findIndex(
      (existing) =>
        existing.serviceAccountId === record.serviceAccountId &&
        existing.organisation === record.organisation &&
        existing.subject === record.subject &&
        existing.issuer === record.issuer,
    );
    if (same === -1) directory.federatedIdentities.push(record);
    else directory.federatedIdentities[same] = record;
  }
}

function seededValue(version: SecretSeed['versions'][number]): StoredValue {
  if (version.secretKeyValues !== undefined) return { format: 'keyValue', entries: { ...version.secretKeyValues } };
  return { format: 'string', bytes: Buffer.from(version.secretString ?? '', 'utf8') };
}

function applySecret(state: EmulatorState, entry: SecretSeed): void {
  const organisation = state.directory.findOrganisation(entry.organisation)?.identity ?? entry.organisation;
  const scope = { organisation, project: entry.project, region: entry.region };
  if (state.secrets.get(scope, entry.path) !== undefined) return;
  const secret = state.createSecret({
    scope,
    path: entry.path,
    description: entry.description,
    labels: entry.labels,
    annotations: entry.annotations,
    accessPolicy: entry.accessPolicy,
    kmsKeyIdentity: entry.kmsKeyIdentity ?? defaultKmsKey(state, organisation, entry.region).identity,
  });
  for (const version of entry.versions) {
    const added = state.addVersion(secret, seededValue(version));
    if (version.destroyed === true) state.destroyVersion(secret, added.version);
  }
}

/** Throws EmulatorInputError naming every problem; applies nothing in that case. */
export function applySeed(state: EmulatorState, input: unknown): void {
  const parsed = seedSchema.safeParse(input);
  if (!parsed.success) throw new EmulatorInputError(`invalid seed: ${describeZodError(parsed.error)}`);
  const seed = parsed.data;
  const problems = checkReferences(new SeedView(state, seed), seed);
  if (problems.length > 0) throw new EmulatorInputError(`invalid seed: ${problems.join('; ')}`);
  applyDirectory(state, seed);
  for (const secret of seed.secrets ?? []) applySecret(state, secret);
  state.changed();
}
