import { PassThrough } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createChatRepository } from '../chat/chat-repository.js';
import { createChatService } from '../chat/chat-service.js';
import { createUpstreamClient } from '../chat/upstream.js';
import type { AppConfig } from '../config.js';
import { AppError, problemSchema } from '../errors.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { createWidgetAccess } from './widget-access.js';
import { registerChatRateLimits } from './widget-rate-limit.js';
import { createWidgetRepository } from './widget-repository.js';
import {
  CHAT_SSE_DESCRIPTION,
  chatAnswerSchema,
  chatBodySchema,
  transcriptSchema,
  visitorIdSchema,
  widgetConfigSchema,
  widgetKeyQuerySchema,
} from './widget-schemas.js';

/** Public bodies are one short question; anything bigger is refused before parsing. */
export const WIDGET_BODY_LIMIT = 16 * 1024;
/** A comment line on idle streams so proxies do not cut a slow first token. */
const KEEP_ALIVE_MS = 15_000;

const visitorMessages: Record<string, string> = {
  UPSTREAM_UNAVAILABLE: 'The assistant is temporarily unavailable. Please try again in a moment.',
  UPSTREAM_TIMEOUT: 'The assistant took too long to answer. Please try again.',
  INTERRUPTED: 'The answer was interrupted. Please try again.',
  INTERNAL: 'Something went wrong. Please try again.',
  RESTARTING: 'The assistant is restarting. Please ask again in a moment.',
};

const security = [{ widgetKey: [] }];
const tags = ['widget'];

/**
 * The public widget API under /v1/widget: config, chat (JSON or SSE), conversation restore,
 * and CORS preflights. Every route needs a valid widget key and an allowed origin.
 */
export const widgetRoutes: FastifyPluginAsyncZod<{ config: Readonly<AppConfig>; secretBox: Pick<SecretBox, 'decrypt'> }> = async (
  app,
  { config, secretBox },
) => {
  const access = createWidgetAccess({ widgetKeys: app.widgetKeys, repository: createWidgetRepository(app.database.db), log: app.log });
  const chat = createChatService({
    repository: createChatRepository(app.database.db),
    upstream: createUpstreamClient(config),
    secretBox,
    config,
  });
  const rateLimited = await registerChatRateLimits(app, config);

  // Answers being generated, so a shutdown can end them by its deadline with what was said stored.
  const answering = new Set<AbortController>();
  let shuttingDown = false;
  app.addHook('preClose', (done) => {
    shuttingDown = true;
    // Leave part of the grace period to store the partial answers and close the database.
    const endAnswersAfterMs = config.SHUTDOWN_TIMEOUT_MS - Math.min(2000, config.SHUTDOWN_TIMEOUT_MS / 4);
    setTimeout(() => {
      for (const controller of answering) controller.abort();
    }, endAnswersAfterMs).unref();
    done();
  });

  app.decorateRequest('widget', null);
  // The widget posts text/plain (a CORS "simple" request, no preflight) carrying JSON.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new AppError('MALFORMED_JSON', 'The body is not valid JSON'), undefined);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS') await access.admit(request, reply);
  });

  app.options(
    '/v1/widget/*',
    {
      schema: {
        tags,
        summary: 'CORS preflight for the widget routes',
        description: `Answers with Access-Control-Max-Age 86400 for allowed origins (decided from ?key= when present).`,
        response: { 204: z.undefined().describe('No content') },
      },
    },
    async (request, reply) => {
      await access.preflight(request, reply);
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/widget/config',
    {
      schema: {
        tags,
        summary: "The widget's look: colour, title and greeting",
        security,
        querystring: widgetKeyQuerySchema,
        response: { 200: widgetConfigSchema, 401: problemSchema, 403: problemSchema },
      },
      // The hottest public route answers three stored, already-validated strings: the schema documents
      // them, plain JSON.stringify serializes them (measured: 56 → 48 µs CPU per request, see BENCHMARKS.md).
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      const context = request.widget!;
      reply.header('cache-control', 'no-cache');
      return { color: context.widgetColor, title: context.title, greeting: context.greeting };
    },
  );

  app.post(
    '/v1/widget/chat',
    {
      bodyLimit: WIDGET_BODY_LIMIT,
      onRequest: rateLimited,
      schema: {
        tags,
        summary: "Ask the owner's FAQ assistant a question (JSON, or streamed as Server-Sent Events)",
        description: CHAT_SSE_DESCRIPTION,
        security,
        querystring: widgetKeyQuerySchema,
        body: chatBodySchema(config.CHAT_MAX_MESSAGE_CHARS),
        response: {
          200: chatAnswerSchema.describe(CHAT_SSE_DESCRIPTION),
          400: problemSchema,
          401: problemSchema,
          403: problemSchema,
          413: problemSchema,
          415: problemSchema,
          429: problemSchema.describe('Over a rate limit or the daily message cap; see Retry-After'),
          503: problemSchema,
          504: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const context = request.widget!;
      const origin = request.headers.origin;
      const turn = await chat.beginTurn(context, {
        message: request.body.message,
        conversationId: request.body.conversationId,
        visitorId: request.body.visitorId,
        origin: origin ? origin.slice(0, 300) : null,
      });

      // The visitor left (tab closed, navigation): stop paying for tokens nobody will read.
      const visitorGone = new AbortController();
      const onClose = () => {
        if (reply.raw.writableFinished) return;
        visitorGone.abort();
        // A half-closed connection would otherwise stay open (and hold up shutdown) until the keep-alive timeout.
        reply.raw.destroy();
      };
      reply.raw.once('close', onClose);
      answering.add(visitorGone);

      if (!(request.headers.accept ?? '').includes('text/event-stream')) {
        const result = await chat
          .answer(context, turn, { signal: visitorGone.signal, onDelta: () => {}, log: request.log })
          .finally(() => {
            answering.delete(visitorGone);
            reply.raw.off('close', onClose);
          });
        if (result.status === 'aborted' && shuttingDown) throw new AppError('SERVICE_UNAVAILABLE', visitorMessages.RESTARTING);
        if (result.status !== 'complete') throw new AppError(result.failure?.code ?? 'UPSTREAM_UNAVAILABLE');
        return { conversationId: turn.conversationId, visitorId: turn.visitorId, messageId: result.messageId, answer: result.text };
      }

      const events = new PassThrough();
      const send = (event: string, data: unknown) => {
        if (!events.destroyed && !events.writableEnded) events.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache, no-transform')
        .header('x-accel-buffering', 'no');
      // A stream payload bypasses the response schema (it documents the JSON variant).
      reply.send(events as never);
      send('conversation', { conversationId: turn.conversationId, visitorId: turn.visitorId });
      const keepAlive = setInterval(() => {
        if (!events.destroyed && !events.writableEnded) events.write(': keep-alive\n\n');
      }, KEEP_ALIVE_MS);
      try {
        const result = await chat.answer(context, turn, {
          signal: visitorGone.signal,
          onDelta: (text) => send('delta', { text }),
          log: request.log,
        });
        if (result.status === 'complete') send('done', { messageId: result.messageId });
        else if (result.status === 'aborted' && shuttingDown) send('error', { code: 'SERVICE_UNAVAILABLE', message: visitorMessages.RESTARTING });
        else if (result.status === 'partial') send('error', { code: result.failure?.code ?? 'UPSTREAM_UNAVAILABLE', message: visitorMessages.INTERRUPTED });
        else if (result.status === 'failed') {
          const code = result.failure?.code ?? 'UPSTREAM_UNAVAILABLE';
          send('error', { code, message: visitorMessages[code] });
        }
      } catch (error) {
        request.log.error({ err: error }, 'chat stream failed');
        send('error', { code: 'INTERNAL', message: visitorMessages.INTERNAL });
      } finally {
        answering.delete(visitorGone);
        clearInterval(keepAlive);
        reply.raw.off('close', onClose);
        events.end();
      }
      return reply;
    },
  );

  app.get(
    '/v1/widget/conversations/:id',
    {
      schema: {
        tags,
        summary: "Restore a visitor's conversation after a page load",
        description: 'Only the visitor who started the conversation (same visitorId) gets it; anyone else gets 404.',
        security,
        params: z.object({ id: z.string().max(100) }),
        querystring: widgetKeyQuerySchema.extend({ visitorId: visitorIdSchema }),
        response: { 200: transcriptSchema, 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema },
      },
    },
    async (request, reply) => {
      const transcript = await chat.visitorTranscript(request.widget!, request.params.id, request.query.visitorId);
      reply.header('cache-control', 'no-store');
      return {
        conversationId: transcript.conversation.id,
        messages: transcript.messages.map((message) => ({ ...message, createdAt: message.createdAt.toISOString() })),
      };
    },
  );
};
