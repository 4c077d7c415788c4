/**
 * Exact-path routing with method dispatch: unknown paths are 404, known paths with another
 * method are 405 with `Allow`. Deliberately small; path parameters arrive with the API routes.
 */
import { MailroomError } from '../../errors.js';
import { errorReply, type HttpContext, type HttpHandler, type HttpReply } from './exchange.js';

export class Router {
  private readonly routes = new Map<string, Map<string, HttpHandler>>();

  add(method: string, path: string, handler: HttpHandler): this {
    let byMethod = this.routes.get(path);
    if (!byMethod) {
      byMethod = new Map();
      this.routes.set(path, byMethod);
    }
    byMethod.set(method.toUpperCase(), handler);
    return this;
  }

  /** The handler for every request: dispatches or answers 404/405. */
  readonly handle = (ctx: HttpContext): HttpReply | Promise<HttpReply> => {
    const byMethod = this.routes.get(ctx.path);
    if (!byMethod)
      return errorReply(new MailroomError('NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`));
    const handler = byMethod.get(ctx.method);
    if (handler) return handler(ctx);
    const reply = errorReply(
      new MailroomError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`),
    );
    return { ...reply, headers: { ...reply.headers, allow: [...byMethod.keys()].join(', ') } };
  };
}
