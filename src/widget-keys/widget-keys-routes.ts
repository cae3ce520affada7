import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemSchema } from '../errors.js';
import { requireOwner } from '../plugins/authentication.js';
import { createWidgetKeysRepository } from './widget-keys-repository.js';
import { widgetKeySchema } from './widget-keys-schemas.js';
import { createWidgetKeysService } from './widget-keys-service.js';

const bearerAuth = [{ bearerAuth: [] }];

/** The owner's public widget key and the snippet that carries it. */
export const widgetKeyRoutes: FastifyPluginAsyncZod<{ publicUrl: string }> = async (app, options) => {
  const service = createWidgetKeysService({
    repository: createWidgetKeysRepository(app.database.db),
    widgetKeys: app.widgetKeys,
    publicUrl: options.publicUrl,
  });

  app.post(
    '/v1/api-key',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['widget key'],
        summary: 'Create the widget key',
        description:
          'Creates the public widget key and the snippet to paste into your website. 409 CONFIGURATION_REQUIRED until ' +
          'PUT /v1/configuration has been done; 409 API_KEY_EXISTS when an active key exists. A revoked key is replaced by the new one.',
        security: bearerAuth,
        response: { 201: widgetKeySchema, 401: problemSchema, 409: problemSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await service.create(requireOwner(request).userId)),
  );

  app.get(
    '/v1/api-key',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['widget key'],
        summary: 'Read the widget key and snippet',
        security: bearerAuth,
        response: { 200: widgetKeySchema, 401: problemSchema, 404: problemSchema },
      },
    },
    async (request) => service.get(requireOwner(request).userId),
  );

  app.post(
    '/v1/api-key/rotate',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['widget key'],
        summary: 'Rotate the widget key',
        description: 'Gives the active key a new value; the old value stops working at once. Update the snippet on your website.',
        security: bearerAuth,
        response: { 200: widgetKeySchema, 401: problemSchema, 404: problemSchema, 409: problemSchema },
      },
    },
    async (request) => service.rotate(requireOwner(request).userId),
  );

  app.delete(
    '/v1/api-key',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['widget key'],
        summary: 'Revoke the widget key',
        description: 'Sets the key to REVOKED; the widget stops answering at once. POST /v1/api-key later creates a fresh key.',
        security: bearerAuth,
        response: { 200: widgetKeySchema, 401: problemSchema, 404: problemSchema },
      },
    },
    async (request) => service.revoke(requireOwner(request).userId),
  );
};
