import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** The OpenAPI document at /openapi.json and its UI at /docs, generated from the routes' zod schemas. */
export const openApiPlugin = fp(
  async (app: FastifyInstance, options: { publicUrl: string }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'faqchat',
          version: '0.1.0',
          description:
            'Embeddable FAQ chat widget API. Admin routes take `Authorization: Bearer <token>` from signup or login; ' +
            'public widget routes take the widget key in `X-Widget-Key` or `?key=`. Errors are application/problem+json.',
        },
        servers: [{ url: options.publicUrl }],
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'Session token from /v1/auth/signup or /v1/auth/login' },
            widgetKey: { type: 'apiKey', in: 'header', name: 'X-Widget-Key', description: 'Public widget key (pk_…)' },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
