/**
Access policies in the documented `conditions` shape. They gate only reveal and add-version: a
matching deny rejects, and when allow conditions exist at least one of them must match.
*/
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { AccessPolicy } from '../thalassa/wire.ts';
import { badRequest } from './api-response.ts';

type Condition = AccessPolicy['conditions'][number];
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
  for (const condition of policy.conditions) {
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

/** Why the policy refuses this request, or undefined when it allows it. */
export function policyRefusal(policy: AccessPolicy, ip: string, now: number): string | undefined {
  const denied = policy.conditions.find((condition) => condition.effect === 'deny' && matches(condition, ip, now));
  if (denied !== undefined) return `a ${denied.type} deny condition matches`;
  const allows = policy.conditions.filter((condition) => condition.effect === 'allow');
  if (allows.length > 0 && !allows.some((condition) => matches(condition, ip, now))) {
    return 'no allow condition matches';
  }
  return undefined;
}
