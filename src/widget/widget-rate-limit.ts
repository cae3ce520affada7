import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { AppConfig } from '../config.js';
import { AppError } from '../errors.js';

const WINDOW_MS = 60_000;

/**
 * Registers @fastify/rate-limit in the caller's (encapsulated) scope and returns the
 * onRequest hook for the chat route: per key + visitor IP, then per key overall. With
 * REDIS_URL the counters live in Redis so every instance shares them; when Redis does not
 * answer the hook fails closed (503) instead of allowing unlimited upstream spend.
 * The Redis client is closed with the app.
 */
export const registerChatRateLimits = async (
  app: FastifyInstance,
  config: Pick<AppConfig, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'RATE_LIMIT_VISITOR_PER_MINUTE' | 'RATE_LIMIT_KEY_PER_MINUTE'>,
) => {
  let redis: Redis | undefined;
  if (config.REDIS_URL) {
    const client = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      // Fail fast rather than queue: a request must not hang waiting for Redis.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 1000,
    });
    redis = client;
    let healthy = true;
    client.on('error', (error: Error) => {
      if (healthy) app.log.error({ err: { message: error.message } }, 'Redis (rate-limit store) is unreachable; the chat route answers 503 until it is back');
      healthy = false;
    });
    client.on('ready', () => {
      if (!healthy) app.log.info('Redis (rate-limit store) is back');
      healthy = true;
    });
    app.addHook('onClose', async () => {
      client.disconnect();
    });
    await client.connect().catch(() => {
      // Logged by the error listener; ioredis keeps reconnecting in the background.
    });
  }

  await app.register(rateLimit, {
    global: false,
    skipOnError: false,
    ...(redis ? { redis, nameSpace: config.REDIS_KEY_PREFIX } : { cache: 20_000 }),
  });

  // Keyed by configuration, not key value, so rotating the key does not reset the counters.
  const perVisitor = app.createRateLimit({
    max: config.RATE_LIMIT_VISITOR_PER_MINUTE,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `visitor:${request.widget?.configurationId ?? 'none'}:${request.ip}`,
  });
  const perKey = app.createRateLimit({
    max: config.RATE_LIMIT_KEY_PER_MINUTE,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `key:${request.widget?.configurationId ?? 'none'}`,
  });

  return async (request: FastifyRequest): Promise<void> => {
    for (const [limiter, detail] of [
      [perVisitor, 'You are sending messages too quickly. Please wait a moment.'],
      [perKey, 'This assistant is receiving too many messages right now. Please try again shortly.'],
    ] as const) {
      let result: Awaited<ReturnType<typeof limiter>>;
      try {
        result = await limiter(request);
      } catch (error) {
        request.log.error({ err: error }, 'rate-limit store unavailable; refusing the chat request');
        throw new AppError('SERVICE_UNAVAILABLE', 'Please try again in a moment', { headers: { 'retry-after': '5' } });
      }
      if (!result.isAllowed && result.isExceeded) {
        throw new AppError('RATE_LIMITED', detail, { headers: { 'retry-after': String(Math.max(1, result.ttlInSeconds)) } });
      }
    }
  };
};
