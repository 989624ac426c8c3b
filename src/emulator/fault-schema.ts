/** Fault injection settings, validated the same way for options, `setFaults` and `PUT /faults`. */
import { z } from 'zod';
import { operations } from './operations.ts';

const operationList = z.array(z.enum(operations));
const rate = z.number().min(0).max(1);
const milliseconds = z.number().nonnegative().max(600_000);

export const latencyFaultSchema = z
  .strictObject({
    fixedMs: milliseconds.optional(),
    minMs: milliseconds.optional(),
    maxMs: milliseconds.optional(),
    operations: operationList.optional(),
  })
  .refine((latency) => (latency.minMs ?? 0) <= (latency.maxMs ?? latency.minMs ?? 0), {
    message: 'minMs must not exceed maxMs',
  });

export const errorFaultSchema = z.strictObject({
  status: z.int().min(400).max(599),
  rate,
  operations: operationList.optional(),
  retryAfterSeconds: z.int().nonnegative().optional(),
  message: z.string().optional(),
});

export const rateLimitSchema = z.strictObject({
  requestsPerSecond: z.number().positive(),
  burst: z.number().min(1),
  retryAfterSeconds: z.int().nonnegative().optional(),
});

export const outageModes = ['none', 'unavailable', 'refuse'] as const;
export type OutageMode = (typeof outageModes)[number];

export const faultConfigSchema = z.strictObject({
  latency: latencyFaultSchema.optional(),
  errors: z.array(errorFaultSchema).optional(),
  /** Destroy the socket without any response. */
  dropRate: rate.optional(),
  /** Send status, headers and part of the body, then destroy the socket. */
  dropMidResponseRate: rate.optional(),
  outage: z.enum(outageModes).optional(),
  /** A token bucket per organisation. */
  rateLimit: rateLimitSchema.optional(),
});

export type FaultConfig = z.infer<typeof faultConfigSchema>;
export type LatencyFault = z.infer<typeof latencyFaultSchema>;
export type ErrorFault = z.infer<typeof errorFaultSchema>;
export type RateLimit = z.infer<typeof rateLimitSchema>;
