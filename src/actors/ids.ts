/**
 * Identifiers. Job and workflow ids are UUIDs (v4); event ids too. Lease tokens only need to be
 * unique per process lifetime plus a random part, so a restarted process never reuses one.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export function newId(): string {
  return randomUUID();
}

export function eventId(): string {
  return randomUUID();
}

const leasePrefix = randomBytes(4).toString('hex');
let leaseCounter = 0;

export function newLease(): string {
  leaseCounter++;
  return `${leasePrefix}.${leaseCounter.toString(36)}`;
}
