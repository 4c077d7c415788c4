/**
 * Path routing with method dispatch. Patterns are segment lists where `:name` captures one
 * segment (`/api/v1/jobs/:id/cancel`). A literal segment wins over a parameter at the same place
 * whenever the literal path exists; a path that exists without the method is 405 with `Allow`,
 * and no matching path at all is 404.
 */
import { MailroomError } from '../../errors.js';
import {
  errorReply,
  type HttpContext,
  type HttpHandler,
  type HttpReply,
  type RouteMatch,
} from './exchange.js';

interface Node {
  literal: Map<string, Node>;
  param: { name: string; node: Node } | null;
  methods: Map<string, Route>;
}

interface Route {
  handler: HttpHandler;
  /** As registered (`/api/v1/jobs/:id`): metrics label requests by it, never by the raw path. */
  pattern: string;
}

function node(): Node {
  return { literal: new Map(), param: null, methods: new Map() };
}

/** Longer paths never match a route: this also bounds the work a huge URL can cause. */
const MAX_SEGMENTS = 16;

export class Router {
  private readonly root = node();
  private readonly table: Array<{ method: string; pattern: string }> = [];

  /** Every registered route, in registration order (the OpenAPI document is checked against it). */
  routes(): ReadonlyArray<{ method: string; pattern: string }> {
    return this.table;
  }

  add(method: string, pattern: string, handler: HttpHandler): this {
    let current = this.root;
    for (const segment of segments(pattern)) {
      if (segment.startsWith(':')) {
        const name = segment.slice(1);
        if (current.param && current.param.name !== name) {
          throw new Error(`route ${pattern}: parameter :${name} clashes with :${current.param.name}`);
        }
        current.param ??= { name, node: node() };
        current = current.param.node;
      } else {
        let next = current.literal.get(segment);
        if (!next) {
          next = node();
          current.literal.set(segment, next);
        }
        current = next;
      }
    }
    const upper = method.toUpperCase();
    if (current.methods.has(upper)) throw new Error(`route ${upper} ${pattern} is defined twice`);
    current.methods.set(upper, { handler, pattern });
    this.table.push({ method: upper, pattern });
    return this;
  }

  /** The route for this request, or the 404/405 reply. */
  readonly resolve = (ctx: HttpContext): RouteMatch | HttpReply => {
    const parts = segments(ctx.path);
    const allowed = new Set<string>();
    if (parts.length <= MAX_SEGMENTS) {
      const found = match(this.root, parts, 0, {}, ctx.method, allowed);
      if (found) return found;
    }
    if (allowed.size === 0) {
      return errorReply(new MailroomError('NOT_FOUND', `No route for ${ctx.method} ${truncate(ctx.path)}`));
    }
    const reply = errorReply(
      new MailroomError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${truncate(ctx.path)}`),
    );
    return { ...reply, headers: { ...reply.headers, allow: [...allowed].join(', ') } };
  };
}

function match(
  current: Node,
  parts: readonly string[],
  index: number,
  params: Record<string, string>,
  method: string,
  allowed: Set<string>,
): RouteMatch | null {
  if (index === parts.length) {
    const route = current.methods.get(method);
    if (route) return { handler: route.handler, params, pattern: route.pattern };
    for (const name of current.methods.keys()) allowed.add(name);
    return null;
  }
  const part = parts[index]!;
  const literal = current.literal.get(part);
  if (literal) {
    const before = allowed.size;
    const found = match(literal, parts, index + 1, params, method, allowed);
    if (found) return found;
    // A literal path that exists (with other methods) shadows the parameter: GET on the
    // POST-only `/jobs/batch` is 405, not a lookup of a job called "batch".
    if (allowed.size > before) return null;
  }
  if (current.param && part.length > 0) {
    const value = decode(part);
    if (value !== null) {
      const found = match(
        current.param.node,
        parts,
        index + 1,
        { ...params, [current.param.name]: value },
        method,
        allowed,
      );
      if (found) return found;
    }
  }
  return null;
}

/** `/a/b/` and `/a/b` are the same route; the root is no segments at all. */
function segments(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed === '/' || trimmed === '' ? [] : trimmed.slice(1).split('/');
}

function decode(part: string): string | null {
  if (!part.includes('%')) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** Error messages echo the path; a 100 KB URL should not come back 100 KB long. */
function truncate(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
