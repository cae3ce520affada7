import { z } from 'zod';

/**
 * The closed catalogue of errors faqchat answers with. Every error response is
 * application/problem+json rendered from here by plugins/error-handler.ts.
 */
export const errorCatalogue = {
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  MALFORMED_JSON: { status: 400, title: 'The body is not valid JSON' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  INVALID_WIDGET_KEY: { status: 401, title: 'Unknown or revoked widget key' },
  ORIGIN_NOT_ALLOWED: { status: 403, title: 'This website may not use this widget key' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  NOT_ACCEPTABLE: { status: 406, title: 'Not acceptable' },
  EMAIL_TAKEN: { status: 409, title: 'An account with this email already exists' },
  CONFIGURATION_REQUIRED: { status: 409, title: 'Create a configuration first' },
  API_KEY_EXISTS: { status: 409, title: 'A widget key already exists' },
  CONFLICT: { status: 409, title: 'Conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The body is too large' },
  URI_TOO_LONG: { status: 414, title: 'A path parameter is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  LOGIN_THROTTLED: { status: 429, title: 'Too many failed logins' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  DAILY_LIMIT_REACHED: { status: 429, title: 'Daily message limit reached' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  UPSTREAM_UNAVAILABLE: { status: 503, title: 'The assistant is temporarily unavailable' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'The assistant took too long to answer' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'The database is not answering' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service temporarily unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly title: string;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, detail?: string, options: { headers?: Record<string, string>; cause?: unknown } = {}) {
    const entry = errorCatalogue[code];
    super(detail ?? entry.title, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.statusCode = entry.status;
    this.title = entry.title;
    this.headers = options.headers ?? {};
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
}

export const problemType = (code: ErrorCode): string => `urn:faqchat:problem:${code.toLowerCase().replaceAll('_', '-')}`;

export const toProblem = (code: ErrorCode, detail?: string): Problem => {
  const entry = errorCatalogue[code];
  return { type: problemType(code), title: entry.title, status: entry.status, detail: detail ?? entry.title, code };
};

/** Response schema for every problem+json body, used in each route's response map. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });
