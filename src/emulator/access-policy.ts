/**
Access policies in the documented `conditions` shape and in the official Go client's `statements`
shape (both may be given; each must allow). They gate only reveal and add-version: a matching deny
rejects, and when allow rules exist at least one of them must match.
*/
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { AccessPolicy, AccessPolicyCondition as Condition, AccessPolicyStatement as Statement } from '../thalassa/wire.ts';
import { badRequest } from './api-response.ts';

/** The operations a policy gates, by their IAM action names. */
export type GatedAction = 'getSecretValue' | 'putSecretValue';

/** What a policy judges about one request. */
export interface PolicyRequest {
  readonly action: GatedAction;
  /** The caller's principal name. */
  readonly principal: string;
  readonly ip: string;
  readonly now: number;
}

type IpCondition = Extract<Condition, { type: 'ip' }>;
type TimeCondition = Extract<Condition, { type: 'time' }>;

function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = cidr.trim().split('/');
  if (extra !== undefined) return undefined;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return undefined;
  const maxPrefix = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: maxPrefix, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) return undefined;
  return { address, prefix: Number(prefixText), family };
}

function timeZoneIsValid(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Rejects what the schema cannot: malformed CIDRs and unknown time zones (400). */
export function validateAccessPolicy(policy: AccessPolicy): void {
  for (const condition of policy.conditions ?? []) {
    if (condition.type === 'ip') {
      const bad = condition.cidrs.find((cidr) => parseCidr(cidr) === undefined);
      if (bad !== undefined) throw badRequest(`access policy: invalid CIDR "${bad}"`);
    } else if (condition.timezone !== undefined && !timeZoneIsValid(condition.timezone)) {
      throw badRequest(`access policy: unknown timezone "${condition.timezone}"`);
    }
  }
}

function ipMatches(condition: IpCondition, ip: string): boolean {
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  if (family === undefined) return false;
  const list = new BlockList();
  for (const cidr of condition.cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed !== undefined) list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list.check(ip, family);
}

function hourIn(timeZone: string, now: number): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' }).formatToParts(now);
  return Number(parts.find((part) => part.type === 'hour')?.value ?? '0');
}

/** `[startHour, endHour)`; a window with startHour > endHour wraps past midnight; equal hours match nothing. */
function timeMatches(condition: TimeCondition, now: number): boolean {
  const hour = hourIn(condition.timezone ?? 'UTC', now);
  const { startHour, endHour } = condition;
  if (startHour <= endHour) return hour >= startHour && hour < endHour;
  return hour >= startHour || hour < endHour;
}

function matches(condition: Condition, ip: string, now: number): boolean {
  return condition.type === 'ip' ? ipMatches(condition, ip) : timeMatches(condition, now);
}

function conditionRefusal(conditions: readonly Condition[], { ip, now }: PolicyRequest): string | undefined {
  const denied = conditions.find((condition) => condition.effect === 'deny' && matches(condition, ip, now));
  if (denied !== undefined) return `a ${denied.type} deny condition matches`;
  const allows = conditions.filter((condition) => condition.effect === 'allow');
  if (allows.length > 0 && !allows.some((condition) => matches(condition, ip, now))) {
    return 'no allow condition matches';
  }
  return undefined;
}

/**
The spellings of each gated action a statement may name: the IAM action names, client-go's
`secrets:get-value` (and `secrets:put-value` by analogy), and wildcards. Other actions (`read`,
`list`, `update`, `delete`, …) name operations no policy gates, so such a statement never applies.
*/
const actionSpellings: Record<GatedAction, ReadonlySet<string>> = {
  getSecretValue: new Set(['*', 'secrets:*', 'getSecretValue', 'secrets:getSecretValue', 'secrets:get-value']),
  putSecretValue: new Set(['*', 'secrets:*', 'putSecretValue', 'secrets:putSecretValue', 'secrets:put-value']),
};

/** No actions means every action. */
function statementApplies(statement: Statement, action: GatedAction): boolean {
  const actions = statement.actions ?? [];
  return actions.length === 0 || actions.some((name) => actionSpellings[action].has(name));
}

/**
No principals means everyone. The emulator's principals have a name and no type, so `*`, the name
and `<type>:<name>` (`team:platform`, `serviceaccount:operator`) all name the principal `<name>`.
*/
function statementNames(statement: Statement, principal: string): boolean {
  const principals = statement.principals ?? [];
  return (
    principals.length === 0 ||
    principals.some((entry) => entry === '*' || entry === principal || entry.slice(entry.indexOf(':') + 1) === principal)
  );
}

/**
Statements are judged as conditions are, per gated action: among the statements whose actions
include it, one that is a deny and names the caller rejects, and when allow statements exist one of
them must name the caller.
*/
function statementRefusal(statements: readonly Statement[], request: PolicyRequest): string | undefined {
  const applicable = statements.filter((statement) => statementApplies(statement, request.action));
  const isDeny = (statement: Statement): boolean => statement.effect.toLowerCase() === 'deny';
  if (applicable.some((statement) => isDeny(statement) && statementNames(statement, request.principal))) {
    return 'a deny statement matches';
  }
  const allows = applicable.filter((statement) => !isDeny(statement));
  if (allows.length > 0 && !allows.some((statement) => statementNames(statement, request.principal))) {
    return 'no allow statement matches';
  }
  return undefined;
}

/** Why the policy refuses this request, or undefined when it allows it. */
export function policyRefusal(policy: AccessPolicy, request: PolicyRequest): string | undefined {
  return conditionRefusal(policy.conditions ?? [], request) ?? statementRefusal(policy.statements ?? [], request);
}

/**
The policy to keep: undefined (no policy) for null, `{}` and a policy whose lists are all empty,
which is how client-go clears one (`{"accessPolicy":{}}`, its statements being `omitempty`).
*/
export function policyOrNone(policy: AccessPolicy | null | undefined): AccessPolicy | undefined {
  if (policy === null || policy === undefined) return undefined;
  const conditions = policy.conditions ?? [];
  const statements = policy.statements ?? [];
  if (conditions.length === 0 && statements.length === 0) return undefined;
  return { ...(conditions.length > 0 ? { conditions } : {}), ...(statements.length > 0 ? { statements } : {}) };
}
