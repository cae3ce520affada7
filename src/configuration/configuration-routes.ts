import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemSchema } from '../errors.js';
import { requireOwner } from '../plugins/authentication.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { createConfigurationRepository } from './configuration-repository.js';
import { CONFIGURATION_LIMITS as L, configurationSchema, patchConfigurationSchema, putConfigurationSchema, SUPPORTED_MODELS } from './configuration-schemas.js';
import { createConfigurationService } from './configuration-service.js';

const bearerAuth = [{ bearerAuth: [] }];

const fieldRules =
  `faqText 1–${L.faqTextMaxChars} characters; widgetColor #rgb or #rrggbb; openAiApiKey starts with sk-, ` +
  `${L.openAiApiKeyMinChars}–${L.openAiApiKeyMaxChars} characters, no spaces; model one of ${SUPPORTED_MODELS.join(', ')}; ` +
  `title ≤ ${L.titleMaxChars}, greeting and fallbackText ≤ ${L.greetingMaxChars} characters; allowedOrigins up to ` +
  `${L.allowedOriginsMax} exact origins (https://shop.example.com), empty = any website; dailyMessageLimit a positive integer or null. ` +
  'Unknown fields are rejected.';

/** The owner's one configuration: FAQ, look, OpenAI key and limits. */
export const configurationRoutes: FastifyPluginAsyncZod<{ secretBox: SecretBox }> = async (app, options) => {
  const service = createConfigurationService({
    repository: createConfigurationRepository(app.database.db),
    secretBox: options.secretBox,
    widgetKeys: app.widgetKeys,
    log: app.log,
  });

  app.get(
    '/v1/configuration',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['configuration'],
        summary: 'Read the configuration',
        description: 'The OpenAI key is masked (sk-… and its last four characters); it is never returned in full.',
        security: bearerAuth,
        response: { 200: configurationSchema, 401: problemSchema, 404: problemSchema },
      },
    },
    async (request) => service.get(requireOwner(request).userId),
  );

  app.put(
    '/v1/configuration',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['configuration'],
        summary: 'Create or replace the configuration',
        description:
          '201 when created, 200 when replaced. faqText is required; openAiApiKey is required on create and, when omitted on ' +
          `replace, the stored key is kept. Other omitted fields return to their defaults. ${fieldRules}`,
        security: bearerAuth,
        body: putConfigurationSchema,
        response: { 200: configurationSchema, 201: configurationSchema, 400: problemSchema, 401: problemSchema },
      },
    },
    async (request, reply) => {
      const { created, configuration } = await service.put(requireOwner(request).userId, request.body);
      return reply.code(created ? 201 : 200).send(configuration);
    },
  );

  app.patch(
    '/v1/configuration',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['configuration'],
        summary: 'Change part of the configuration',
        description: `Changes only the fields sent; null for dailyMessageLimit removes the cap. ${fieldRules}`,
        security: bearerAuth,
        body: patchConfigurationSchema,
        response: { 200: configurationSchema, 400: problemSchema, 401: problemSchema, 404: problemSchema },
      },
    },
    async (request) => service.patch(requireOwner(request).userId, request.body),
  );
};
