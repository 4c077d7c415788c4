/**
 * GET /openapi.json: an OpenAPI 3.1 document generated from the zod schemas that lists every route
 * the router serves (and nothing else), whose schemas are valid JSON Schema 2020-12 that accept
 * what the API accepts, with the error registry's codes.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { openApiPathOf } from '../../src/transport/openapi.js';
import { type DirectServer, startDirectServer } from './direct.js';
import { type Body, call } from './support.js';

describe('openapi.json', () => {
  let d: DirectServer;
  let doc: Body;
  let bytes: string;
  beforeAll(async () => {
    d = await startDirectServer({ apiKeys: ['doc-key'] });
    const res = await fetch(`${d.base}/openapi.json`, { headers: { 'x-api-key': 'doc-key' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    bytes = await res.text();
    doc = JSON.parse(bytes);
  });
  afterAll(async () => {
    await d.stop();
  });

  it('is OpenAPI 3.1.0, behind the API key, and served from cached bytes', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Mailroom');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await call(d.base, 'GET', '/openapi.json')).status).toBe(401);
    const again = await fetch(`${d.base}/openapi.json`, { headers: { 'x-api-key': 'doc-key' } });
    expect(await again.text()).toBe(bytes);
  });

  it('describes every route the router serves, and only those', () => {
    const routes = d.server.routes();
    expect(routes.length).toBeGreaterThan(20);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const served = new Set(routes.map((r) => `${r.method} ${openApiPathOf(r.pattern)}`));
    expect([...served].filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !served.has(route))).toEqual([]);
    for (const required of [
      'GET /api/v1/events',
      'GET /metrics',
      'GET /openapi.json',
      'POST /api/jobs/submit',
      'GET /api/workflows/{id}/status',
    ]) {
      expect(documented.has(required), required).toBe(true);
    }
  });

  it('declares path parameters, query parameters, bodies and the error shape', () => {
    const getJob = doc.paths['/api/v1/jobs/{id}'].get;
    expect(getJob.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(getJob.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/JobView',
    );
    expect(getJob.responses['4XX'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/Error',
    );

    const list = doc.paths['/api/v1/jobs'].get.parameters.map((p: Body) => p.name);
    expect(list).toEqual(expect.arrayContaining(['status', 'type', 'workflow_id', 'limit', 'cursor']));
    const events = doc.paths['/api/v1/events'].get.parameters;
    expect(events.find((p: Body) => p.name === 'topics').required).toBe(true);

    const submit = doc.paths['/api/v1/jobs'].post;
    expect(submit.requestBody.required).toBe(true);
    expect(submit.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/JobSpec');
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['202', '200']));
    expect(doc.paths['/api/v1/jobs/{id}/cancel'].post.requestBody.required).toBe(false);
    expect(doc.paths['/health'].get.security).toEqual([]);

    const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
    expect([...codes].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(doc.paths['/api/jobs/submit'].post.responses['400'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CompatError',
    );
  });

  it('has component schemas that are valid JSON Schema and match what the API accepts and returns', async () => {
    // Every $ref points at a component that exists.
    const refs = [...bytes.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) expect(doc.components.schemas[ref], ref).toBeDefined();

    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'mailroom', components: doc.components }, 'mailroom');
    const validator = (name: string) => {
      const validate = ajv.getSchema(`mailroom#/components/schemas/${name}`);
      if (!validate) throw new Error(`no schema ${name}`);
      return validate;
    };
    const jobSpec = validator('JobSpec');
    expect(jobSpec({ type: 'echo', input: { a: 1 }, priority: 5 })).toBe(true);
    expect(jobSpec({ input: 1 })).toBe(false);
    expect(jobSpec({ type: 'echo', surprise: true })).toBe(false);
    const workflowSpec = validator('WorkflowSpec');
    expect(workflowSpec({ name: 'w', steps: [{ type: 'echo' }, { type: 'echo', depends_on: [0] }] })).toBe(
      true,
    );
    expect(workflowSpec({ name: 'w', steps: [] })).toBe(false);

    // A real reply validates against its documented schema.
    const submitted = await call(
      d.base,
      'POST',
      '/api/v1/jobs',
      { type: 'echo', input: 'x' },
      { 'x-api-key': 'doc-key' },
    );
    expect(validator('JobView')(submitted.body), JSON.stringify(validator('JobView').errors)).toBe(true);
    const missing = await call(d.base, 'GET', '/api/v1/jobs/nope', undefined, { 'x-api-key': 'doc-key' });
    expect(validator('Error')(missing.body)).toBe(true);
    const stats = await call(d.base, 'GET', '/api/v1/stats', undefined, { 'x-api-key': 'doc-key' });
    expect(validator('StatsBody')(stats.body), JSON.stringify(validator('StatsBody').errors)).toBe(true);
  });
});
