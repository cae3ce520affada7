import type { FastifyServerOptions } from 'fastify';
import type { AppConfig } from './config.js';

/** Paths pino replaces with [redacted]: credentials and keys never reach a log line. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-widget-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-widget-key"]',
  'password',
  'token',
  'openAiApiKey',
  '*.password',
  '*.token',
  '*.openAiApiKey',
  '*.apiKey',
];

/** Drops the widget key (`?key=`) from logged URLs. */
export const redactUrl = (url: string): string => url.replace(/([?&]key=)[^&#]*/g, '$1[redacted]');

export const loggerOptions = (
  config: Pick<AppConfig, 'LOG_LEVEL'>,
  stream?: NodeJS.WritableStream,
): FastifyServerOptions['logger'] => ({
  level: config.LOG_LEVEL,
  redact: { paths: redactedPaths, censor: '[redacted]' },
  serializers: {
    req: (request: { method: string; url: string; ip?: string; headers: Record<string, unknown> }) => ({
      method: request.method,
      url: redactUrl(request.url),
      ip: request.ip,
      userAgent: request.headers['user-agent'],
    }),
  },
  ...(stream
    ? { stream }
    : process.stdout.isTTY
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } }
      : {}),
});
