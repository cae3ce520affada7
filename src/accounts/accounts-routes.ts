import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemSchema } from '../errors.js';
import { requireOwner } from '../plugins/authentication.js';
import { createAccountsRepository } from './accounts-repository.js';
import { credentialsSchema, loginSchema, sessionSchema, userSchema } from './accounts-schemas.js';
import { type ClientInfo, createAccountsService } from './accounts-service.js';
import { createPasswordHasher, type PasswordHasher } from './password-hashing.js';

export interface AccountsRoutesOptions {
  sessionTtlHours: number;
  /** Defaults to createPasswordHasher(): PRODUCTION_SCRYPT_PARAMS, two hashes at a time. */
  passwordHasher?: PasswordHasher | undefined;
}

const clientInfo = (request: FastifyRequest): ClientInfo => ({ ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null });

const bearerAuth = [{ bearerAuth: [] }];

/** Sign-up, login, logout and the owner's own account. */
export const accountsRoutes: FastifyPluginAsyncZod<AccountsRoutesOptions> = async (app, options) => {
  const service = createAccountsService({
    repository: createAccountsRepository(app.database.db),
    hasher: options.passwordHasher ?? createPasswordHasher(),
    widgetKeys: app.widgetKeys,
    sessionTtlHours: options.sessionTtlHours,
  });

  app.post(
    '/v1/auth/signup',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create a site-owner account',
        description:
          'Creates the account and logs it in. The e-mail is trimmed and stored lower-case; the password (10–1024 characters, ' +
          'never truncated) is stored only as a scrypt hash. Returns a bearer token for the admin routes.',
        body: credentialsSchema,
        response: { 201: sessionSchema, 400: problemSchema, 409: problemSchema },
      },
    },
    async (request, reply) => {
      const session = await service.signUp(request.body.email, request.body.password, clientInfo(request));
      return reply.code(201).send(session);
    },
  );

  app.post(
    '/v1/auth/login',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Log in and receive a session token',
        description:
          'Returns a new bearer token. An unknown e-mail and a wrong password get the same 401 body. After 5 consecutive ' +
          'failures for one e-mail, logins for it are refused with 429 and Retry-After for 30 s, doubling per further failure up to 15 min.',
        body: loginSchema,
        response: { 200: sessionSchema, 400: problemSchema, 401: problemSchema, 429: problemSchema },
      },
    },
    async (request) => service.logIn(request.body.email, request.body.password, clientInfo(request)),
  );

  app.post(
    '/v1/auth/logout',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['accounts'],
        summary: 'Log out',
        description: 'Revokes the session whose token is presented; it stops working at once.',
        security: bearerAuth,
        response: { 204: z.null().describe('Logged out'), 401: problemSchema },
      },
    },
    async (request, reply) => {
      await service.logOut(requireOwner(request).sessionId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/me',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['accounts'],
        summary: 'The logged-in account',
        security: bearerAuth,
        response: { 200: userSchema, 401: problemSchema },
      },
    },
    async (request) => service.getProfile(requireOwner(request).userId),
  );

  app.delete(
    '/v1/me',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['accounts'],
        summary: 'Delete the account',
        description: 'Deletes the account and everything it owns: sessions, configuration, widget key, conversations. The widget stops answering at once.',
        security: bearerAuth,
        response: { 204: z.null().describe('Deleted'), 401: problemSchema },
      },
    },
    async (request, reply) => {
      await service.deleteAccount(requireOwner(request).userId);
      return reply.code(204).send(null);
    },
  );
};
