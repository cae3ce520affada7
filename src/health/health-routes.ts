import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemSchema } from '../errors.js';
import { sendProblem } from '../plugins/error-handler.js';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/db',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database answers',
        response: {
          200: z.object({ status: z.literal('ok'), database: z.enum(['embedded', 'postgres']), latencyMs: z.number() }),
          503: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const started = performance.now();
      try {
        await app.database.ping();
      } catch (error) {
        request.log.warn({ err: error }, 'database ping failed');
        return sendProblem(reply, 'DATABASE_UNAVAILABLE');
      }
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      return { status: 'ok' as const, database: app.database.kind, latencyMs };
    },
  );
};
