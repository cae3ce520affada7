import { DrizzleQueryError } from 'drizzle-orm';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode, toProblem } from '../errors.js';

const fastifyCodes: Partial<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

// Codes postgres.js, PGlite and Node use when the database connection is gone or refusing work.
const databaseDownCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '53300', // too_many_connections
]);

const isDatabaseDown = (error: unknown): boolean => {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return false;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && databaseDownCodes.has(code)) return true;
    // FATAL is always connection-level (e.g. 55000 "database is not currently accepting connections").
    const severity = (current as { severity?: unknown }).severity;
    if (severity === 'FATAL' || severity === 'PANIC') return true;
    if ((current as Error).message === 'PGlite is closed') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
};

const describeValidation = (error: FastifyError): string => {
  if (!hasZodFastifySchemaValidationErrors(error)) return error.message;
  const context = error.validationContext ?? 'request';
  return error.validation
    .map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return `${context}${path ? `.${path}` : ''}: ${issue.message}`;
    })
    .join('; ');
};

/** Drizzle puts the query parameters (visitors' questions, hashes, ciphertexts) in its message: log the query and cause only. */
const loggable = (error: unknown): unknown =>
  error instanceof DrizzleQueryError ? Object.assign(new Error(`Failed query: ${error.query}`), { cause: error.cause }) : error;

export const sendProblem = (reply: FastifyReply, code: ErrorCode, detail?: string): FastifyReply => {
  const problem = toProblem(code, detail);
  return reply.code(problem.status).type('application/problem+json').send(problem);
};

const classify = (error: FastifyError): { code: ErrorCode; detail?: string } => {
  if (error instanceof AppError) return { code: error.code, detail: error.message };
  if (hasZodFastifySchemaValidationErrors(error)) return { code: 'VALIDATION_FAILED', detail: describeValidation(error) };
  const known = error.code ? fastifyCodes[error.code] : undefined;
  if (known) return { code: known, detail: known === 'MALFORMED_JSON' ? 'The body is not valid JSON' : error.message };
  if (error.statusCode === 429) return { code: 'RATE_LIMITED', detail: error.message };
  if (isDatabaseDown(error)) return { code: 'DATABASE_UNAVAILABLE' };
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return { code: error.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', detail: error.message };
  }
  return { code: 'INTERNAL' };
};

/** Renders every error as problem+json from the catalogue; 5xx bodies never carry internals. */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { code, detail } = classify(error);
      const problem = toProblem(code, detail);
      if (problem.status >= 500) request.log.error({ err: loggable(error), code }, 'request failed');
      else request.log.warn({ code, detail: problem.detail }, 'request rejected');
      if (error instanceof AppError) reply.headers(error.headers);
      return reply.code(problem.status).type('application/problem+json').send(problem);
    });

    app.setNotFoundHandler((request, reply) => {
      request.log.warn({ code: 'ROUTE_NOT_FOUND' }, 'no such route');
      return sendProblem(reply, 'ROUTE_NOT_FOUND', `${request.method} ${request.url.split('?')[0]} does not exist`);
    });
  },
  { name: 'error-handler' },
);

/** Errors Fastify raises before routing (bad URL encoding, over-long path parameters), as problem+json too. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, request, reply) => {
  const code = (error.code ? fastifyCodes[error.code] : undefined) ?? 'BAD_REQUEST';
  request.log.warn({ code, detail: error.message }, 'request rejected');
  void sendProblem(reply, code, error.message);
};
