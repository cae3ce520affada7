import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { WidgetContext, WidgetKeyCache } from '../plugins/widget-key-cache.js';
import { widgetKeyPattern } from './widget-schemas.js';
import type { WidgetRepository } from './widget-repository.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The resolved widget key on public widget routes (set by the widget access hook). */
    widget: WidgetContext | null;
  }
}

/** api_keys.last_used_at is written at most this often per key (and per instance). */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;
/** Browsers cache a preflight answer for this long (Chrome caps it at 2 h, Firefox at 24 h). */
export const PREFLIGHT_MAX_AGE_SECONDS = 86_400;

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'Content-Type, Accept, X-Widget-Key, X-Request-Id';
const EXPOSED_HEADERS = 'Retry-After, X-Request-Id';

/** The key from X-Widget-Key or ?key=, if it is shaped like one. */
export const widgetKeyOf = (request: FastifyRequest): string | null => {
  const header = request.headers['x-widget-key'];
  const fromQuery = (request.query as { key?: unknown } | undefined)?.key;
  const candidate = typeof header === 'string' && header !== '' ? header : typeof fromQuery === 'string' ? fromQuery : null;
  return candidate !== null && widgetKeyPattern.test(candidate) ? candidate : null;
};

/** An empty allow-list means any site may embed the widget (the key is public anyway). */
export const isOriginAllowed = (context: Pick<WidgetContext, 'allowedOrigins'>, origin: string | undefined): boolean =>
  context.allowedOrigins.length === 0 || (origin !== undefined && context.allowedOrigins.includes(origin));

/**
 * Key, origin and CORS rules shared by every public widget route. Hand-written rather than
 * @fastify/cors: the decision needs the resolved key (its allowed origins) and the preflight
 * needs the same rules, so a delegator would repeat this lookup anyway.
 */
export const createWidgetAccess = (deps: { widgetKeys: WidgetKeyCache; repository: WidgetRepository; log: FastifyBaseLogger }) => {
  const lastWritten = new Map<string, number>();

  const touch = (context: WidgetContext, now: number) => {
    const previous = lastWritten.get(context.apiKeyId);
    if (previous !== undefined && now - previous < LAST_USED_WRITE_INTERVAL_MS) return;
    if (lastWritten.size > 50_000) lastWritten.clear();
    lastWritten.set(context.apiKeyId, now);
    // Fire and forget: bookkeeping must never slow down or fail a visitor's request.
    deps.repository.touchApiKey(context.apiKeyId, new Date(now)).catch((error: unknown) => {
      lastWritten.delete(context.apiKeyId);
      deps.log.warn({ err: error, apiKeyId: context.apiKeyId }, 'could not record last_used_at');
    });
  };

  return {
    /** onRequest for public routes: 401 for a bad key, 403 for a refused origin, CORS headers for an allowed one. */
    async admit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      reply.header('vary', 'Origin');
      const origin = request.headers.origin;
      const key = widgetKeyOf(request);
      const context = key ? await deps.widgetKeys.resolve(key) : null;
      if (!context) {
        // Readable cross-origin so the widget can tell "revoked key" from "offline"; it reveals nothing about any owner.
        if (origin) reply.header('access-control-allow-origin', origin);
        throw new AppError('INVALID_WIDGET_KEY', 'Send a valid widget key in X-Widget-Key or ?key=');
      }
      if (!isOriginAllowed(context, origin)) {
        throw new AppError('ORIGIN_NOT_ALLOWED', origin ? `${origin.slice(0, 200)} is not an allowed origin for this widget` : 'This widget only answers requests with an allowed Origin');
      }
      if (origin) {
        reply.header('access-control-allow-origin', origin);
        reply.header('access-control-expose-headers', EXPOSED_HEADERS);
      }
      request.widget = context;
      touch(context, Date.now());
    },

    /** Answers a CORS preflight. Refuses (no CORS headers) an origin the key in ?key= does not allow. */
    async preflight(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      reply.header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      const origin = request.headers.origin;
      if (!origin) return;
      // The header-borne key is not sent with a preflight; the real request is checked in full anyway.
      const key = widgetKeyOf(request);
      const context = key ? await deps.widgetKeys.resolve(key) : null;
      if (context && !isOriginAllowed(context, origin)) return;
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-methods', ALLOWED_METHODS);
      reply.header('access-control-allow-headers', ALLOWED_HEADERS);
      reply.header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
    },
  };
};

export type WidgetAccess = ReturnType<typeof createWidgetAccess>;
