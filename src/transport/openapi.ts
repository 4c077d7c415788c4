/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas (`z.toJSONSchema`,
 * JSON Schema 2020-12, which OpenAPI 3.1 uses as is). Request bodies are described as the schemas
 * accept them (`io: 'input'`: defaults optional), replies as the server produces them. Every route
 * the router knows must have an entry in OPERATIONS; a test compares the two, so they cannot drift.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { INPUTS, OPERATIONS, type Operation, OUTPUTS } from './openapi-operations.js';

const toSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;

function components(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const [group, io] of [
    [INPUTS, 'input'],
    [OUTPUTS, 'output'],
  ] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(group)) registry.add(schema, { id });
    const generated = z.toJSONSchema(registry, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
      uri: (id) => `#/components/schemas/${id}`,
    }) as { schemas: Record<string, Record<string, unknown>> };
    for (const [id, schema] of Object.entries(generated.schemas)) {
      // Component schemas are identified by where they sit in the document, not by $id.
      const { $schema: _s, $id: _i, ...rest } = schema;
      schemas[id] = rest;
    }
  }
  return schemas;
}

/** `/api/v1/jobs/:id` → `/api/v1/jobs/{id}` and its path parameters. */
function openApiPath(pattern: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = pattern.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

export function openApiPathOf(pattern: string): string {
  return openApiPath(pattern).path;
}

function parameters(operation: Operation, params: string[]): unknown[] {
  const list: unknown[] = params.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$' },
  }));
  if (operation.query) {
    const schema = toSchema(operation.query, 'input') as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      list.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: property });
    }
  }
  return list;
}

const json = (name: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } });

function operationObject(operation: Operation, params: string[]): Record<string, unknown> {
  const compat = operation.tag === 'compatibility';
  const errors = compat ? 'CompatError' : 'Error';
  const responses: Record<string, unknown> = {};
  for (const [status, reply] of Object.entries(operation.replies)) {
    responses[status] = {
      description: reply.description,
      content: reply.content
        ? { [reply.content.type]: { schema: reply.content.schema } }
        : reply.schema
          ? json(reply.schema)
          : undefined,
    };
  }
  responses['4XX'] ??= {
    description: 'Client error (the registry error shape; see the Error schema for codes)',
    content: json(errors),
  };
  responses['5XX'] ??= { description: 'Server error; `Retry-After` on 503', content: json(errors) };
  const object: Record<string, unknown> = {
    operationId: operationId(operation),
    summary: operation.summary,
    tags: [operation.tag],
    parameters: parameters(operation, params),
    responses,
  };
  if (operation.public) object.security = [];
  if (operation.path === '/api/v1/events')
    object.security = [{ apiKey: [] }, { bearer: [] }, { queryKey: [] }];
  if (operation.body) {
    object.requestBody = {
      required: !operation.bodyOptional,
      content: {
        ...json(operation.body),
        'application/msgpack': { schema: { $ref: `#/components/schemas/${operation.body}` } },
      },
    };
  }
  return object;
}

function operationId(operation: Operation): string {
  const words = operation.path
    .split('/')
    .filter((part) => part && part !== 'api')
    .map((part) => (part.startsWith(':') ? `by_${part.slice(1)}` : part.replace(/[^A-Za-z0-9]/g, '_')));
  return [operation.method.toLowerCase(), ...words].join('_');
}

/** Builds the whole document (a plain object). */
export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    const { path, params } = openApiPath(operation.path);
    paths[path] ??= {};
    paths[path][operation.method.toLowerCase()] = operationObject(operation, params);
  }
  const codes = Object.entries(ERROR_CODES)
    .map(([code, entry]) => `\`${code}\` (${entry.status}${entry.retryable ? ', retryable' : ''})`)
    .join(', ');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mailroom',
      version,
      description:
        'A job and workflow runtime. Errors always have the shape of the Error schema, with a stable code ' +
        `from one registry (docs/errors.md): ${codes}. Every response carries x-request-id and honours ` +
        'W3C traceparent. Bodies may be application/msgpack; replies are MessagePack when Accept asks.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }, { bearer: [] }],
    tags: ['jobs', 'workflows', 'events', 'operations', 'compatibility'].map((name) => ({ name })),
    paths,
    components: {
      schemas: components(),
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        bearer: { type: 'http', scheme: 'bearer' },
        queryKey: {
          type: 'apiKey',
          in: 'query',
          name: 'key',
          description: 'Only on /api/v1/events (EventSource cannot set headers)',
        },
      },
    },
  };
}
