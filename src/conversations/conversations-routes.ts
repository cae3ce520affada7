import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemSchema } from '../errors.js';
import { requireOwner } from '../plugins/authentication.js';
import { createConversationsRepository } from './conversations-repository.js';
import {
  conversationDetailSchema,
  conversationPageSchema,
  listConversationsQuerySchema,
  usageQuerySchema,
  usageSchema,
} from './conversations-schemas.js';
import { createConversationsService } from './conversations-service.js';

const security = [{ bearerAuth: [] }];
const tags = ['conversations'];

/** The owner's view of visitor conversations and usage. */
export const conversationsRoutes: FastifyPluginAsyncZod = async (app) => {
  const service = createConversationsService({ repository: createConversationsRepository(app.database.db) });

  app.get(
    '/v1/conversations',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Visitor conversations, newest first, paged with an opaque cursor',
        security,
        querystring: listConversationsQuerySchema,
        response: { 200: conversationPageSchema, 400: problemSchema, 401: problemSchema },
      },
    },
    async (request) => service.list(requireOwner(request).userId, request.query),
  );

  app.get(
    '/v1/conversations/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'One conversation with all its messages',
        security,
        params: z.object({ id: z.string().max(100) }),
        response: { 200: conversationDetailSchema, 401: problemSchema, 404: problemSchema },
      },
    },
    async (request) => service.get(requireOwner(request).userId, request.params.id),
  );

  app.get(
    '/v1/usage',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Per-day conversations, messages and tokens for the last N UTC days',
        security,
        querystring: usageQuerySchema,
        response: { 200: usageSchema, 400: problemSchema, 401: problemSchema },
      },
    },
    async (request) => service.usage(requireOwner(request).userId, request.query.days),
  );
};
