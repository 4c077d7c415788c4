/**
 * Frame encoding for both WebSocket endpoints: JSON text frames, or MessagePack binary frames on
 * the `mailroom.msgpack` subprotocol. Event frames are encoded once per event and encoding, however
 * many sockets receive them (fan-out), since the frame depends only on the event and its cursor.
 */
import { Packr } from 'msgpackr';
import type { z } from 'zod';
import { parse } from '../../app/validation.js';
import { MailroomError, toMailroomError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MailroomEvent } from '../../schemas/events.js';
import type { WireError } from '../../schemas/ws.js';
import { decodeBody } from '../http/body.js';

export const MSGPACK_PROTOCOL = 'mailroom.msgpack';

export type Encoding = 'json' | 'msgpack';

/** The content types that make the body decoder read a frame as JSON or as MessagePack. */
const JSON_TYPE = 'application/json';
const MSGPACK_TYPE = 'application/msgpack';
export type Frame = string | Buffer;

// Standard MessagePack any client library reads (no msgpackr records), as the HTTP API sends.
const packr = new Packr({ useRecords: false });

export function encodeFrame(frame: unknown, encoding: Encoding): Frame {
  // pack() returns a view of msgpackr's reused buffer: copy it, since uWS may queue the frame.
  return encoding === 'msgpack' ? Buffer.from(packr.pack(frame)) : JSON.stringify(frame);
}

interface EncodedEvent {
  json?: string;
  msgpack?: Buffer;
}
const eventFrames = new WeakMap<MailroomEvent, EncodedEvent>();

export function encodeEventFrame(cursor: string, event: MailroomEvent, encoding: Encoding): Frame {
  let cached = eventFrames.get(event);
  if (!cached) {
    cached = {};
    eventFrames.set(event, cached);
  }
  const frame = { op: 'event', cursor, event };
  if (encoding === 'msgpack') {
    cached.msgpack ??= encodeFrame(frame, 'msgpack') as Buffer;
    return cached.msgpack;
  }
  cached.json ??= encodeFrame(frame, 'json') as string;
  return cached.json;
}

/**
 * Decodes one incoming frame and checks it against a protocol's schema. A frame that is not an
 * object with a known `op` is INVALID_FRAME; a known op with bad fields is VALIDATION_FAILED with
 * a detail per field, like the HTTP API.
 */
export function decodeFrame<T extends z.ZodType>(
  schema: T,
  ops: ReadonlySet<string>,
  message: ArrayBuffer,
  isBinary: boolean,
  encoding: Encoding,
): z.infer<T> {
  let raw: unknown;
  if (isBinary && encoding !== 'msgpack') {
    throw new MailroomError(
      'INVALID_FRAME',
      `binary frames are MessagePack and need the "${MSGPACK_PROTOCOL}" subprotocol; send JSON as text`,
    );
  }
  try {
    // The HTTP body decoder, with its nesting limit: a deeply nested frame is refused before
    // anything recursive (validation, templates, views) can overflow the stack on it. It copies
    // what it keeps, so nothing refers to uWS's message memory after this callback.
    raw = decodeBody(new Uint8Array(message), isBinary ? MSGPACK_TYPE : JSON_TYPE);
  } catch (error) {
    if (
      error instanceof MailroomError &&
      (error.code === 'INVALID_JSON' || error.code === 'INVALID_MSGPACK')
    ) {
      throw new MailroomError(
        'INVALID_FRAME',
        isBinary ? 'the binary frame is not valid MessagePack' : 'the text frame is not valid JSON',
      );
    }
    throw error;
  }
  const op = raw !== null && typeof raw === 'object' ? (raw as { op?: unknown }).op : undefined;
  if (typeof op !== 'string' || !ops.has(op)) {
    throw new MailroomError(
      'INVALID_FRAME',
      `${op === undefined ? 'a frame needs an "op"' : `unknown op ${JSON.stringify(op)}`}; expected one of ${[...ops].join(', ')}`,
    );
  }
  return parse(schema, raw);
}

/** The `error` object of an error frame; internal causes are logged, never sent. */
export function wireError(error: unknown, logger: Logger): WireError {
  const err = toMailroomError(error);
  if (err.code === 'INTERNAL') {
    logger.error({ err: err.cause ?? err }, 'unhandled error in WebSocket handler');
    return { code: 'INTERNAL', message: 'Internal error' };
  }
  return err.details
    ? { code: err.code, message: err.message, details: err.details }
    : { code: err.code, message: err.message };
}
