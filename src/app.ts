import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { accountsRoutes } from './accounts/accounts-routes.js';
import type { PasswordHasher } from './accounts/password-hashing.js';
import type { AppConfig } from './config.js';
import { configurationRoutes } from './configuration/configuration-routes.js';
import { conversationsRoutes } from './conversations/conversations-routes.js';
import type { DatabaseHandle } from './db/client.js';
import { healthRoutes } from './health/health-routes.js';
import { loggerOptions } from './logger.js';
import { authenticationPlugin } from './plugins/authentication.js';
import { databasePlugin } from './plugins/database.js';
import { errorHandlerPlugin, frameworkErrors } from './plugins/error-handler.js';
import { openApiPlugin } from './plugins/openapi.js';
import { widgetKeyCachePlugin } from './plugins/widget-key-cache.js';
import { createSecretBox } from './secrets/secret-box.js';
import { widgetAssetsRoutes } from './widget-assets/widget-assets-routes.js';
import { widgetKeyRoutes } from './widget-keys/widget-keys-routes.js';
import { widgetRoutes } from './widget/widget-routes.js';

export interface AppDeps {
  database: DatabaseHandle;
  /** Where logs go instead of stdout (tests read them to prove secrets never appear). */
  logStream?: NodeJS.WritableStream;
  /** Production scrypt cost unless a caller (a test) passes a cheaper hasher explicitly. */
  passwordHasher?: PasswordHasher;
}

/** Bodies above this get 413; public widget routes set a much smaller limit of their own. */
const ADMIN_BODY_LIMIT = 512 * 1024;

/** Builds the whole application without listening; server.ts listens, tests inject. */
export const buildApp = async (config: Readonly<AppConfig>, deps: AppDeps): Promise<FastifyInstance> => {
  const app = Fastify({
    logger: loggerOptions(config, deps.logStream),
    trustProxy: config.TRUST_PROXY,
    bodyLimit: ADMIN_BODY_LIMIT,
    // A caller's X-Request-Id is kept only when it is short and plain; anything else gets a fresh id.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given) ? given : randomUUID();
    },
    frameworkErrors,
    // Probes, the widget script and preflights are routine traffic: no "incoming/completed" lines (errors are still logged).
    logController: new LogController({
      disableRequestLogging: (request) => request.method === 'OPTIONS' || /^\/(health(\/db)?|widget\.js)(\?|$)/.test(request.url),
    }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Node's server.close() leaves a keep-alive connection whose response ends after close began
  // open until its keep-alive timeout; sweep such connections while closing so shutdown ends on time.
  app.addHook('preClose', (done) => {
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50).unref();
    app.server.once('close', () => clearInterval(sweep));
    done();
  });

  await app.register(errorHandlerPlugin);
  await app.register(databasePlugin, { database: deps.database });
  await app.register(openApiPlugin, { publicUrl: config.PUBLIC_URL });
  await app.register(authenticationPlugin);
  await app.register(widgetKeyCachePlugin);
  const secretBox = createSecretBox(config.secretKey);

  await app.register(healthRoutes);

  // Owner (admin) API — accounts, configuration, widget key, conversations, usage.
  await app.register(accountsRoutes, { sessionTtlHours: config.SESSION_TTL_HOURS, passwordHasher: deps.passwordHasher });
  await app.register(configurationRoutes, { secretBox });
  await app.register(widgetKeyRoutes, { publicUrl: config.PUBLIC_URL });
  await app.register(conversationsRoutes);
  // Public widget API — /v1/widget/*, /widget.js, /demo.
  await app.register(widgetAssetsRoutes, { publicUrl: config.PUBLIC_URL });
  await app.register(widgetRoutes, { config, secretBox });

  return app;
};
