/**
 * Identifiers. Job and workflow ids are UUIDs (v4). Event ids and lease tokens only need to be
 * unique: a random per-process part plus a counter, so a restarted process never reuses one, at a
 * fraction of a UUID's cost (three or more events per job).
 */
import { randomBytes, randomUUID } from 'node:crypto';

export function newId(): string {
  return flatten(randomUUID());
}

/**
 * Node builds a UUID by concatenating its hex pieces, which V8 keeps as a tree of 16 rope nodes
 * (~490 bytes) until something flattens it. Every job id is held for the job's whole retention,
 * and copied by each young collection it survives; a flat id is 67 bytes. Reading a character
 * flattens the rope in place (it becomes a flat string the collector then short-cuts); converting
 * it to a number does not always (100k ids so made held 376 bytes each).
 */
function flatten(text: string): string {
  text.charCodeAt(0);
  return text;
}

const eventPrefix = `evt_${randomBytes(8).toString('hex')}_`;
let eventCounter = 0;

export function eventId(): string {
  eventCounter++;
  return eventPrefix + eventCounter.toString(36);
}

const leasePrefix = randomBytes(4).toString('hex');
let leaseCounter = 0;

export function newLease(): string {
  leaseCounter++;
  return `${leasePrefix}.${leaseCounter.toString(36)}`;
}
