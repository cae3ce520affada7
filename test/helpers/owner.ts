import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { createPasswordHasher, type PasswordHasher, type ScryptParams } from '../../src/accounts/password-hashing.js';
import { buildTestApp, type TestApp, type TestContext } from './app.js';

/**
 * Fixtures for tests that need a site owner: sign up, configure, get a widget key — all
 * through the real HTTP API. Work with any app (buildTestApp or buildOwnerTestApp).
 */

/** scrypt at N=2^10: ~1 ms instead of ~0.3 s. Only for tests; production cost is the default everywhere else. */
export const TEST_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });

export const createTestPasswordHasher = (): PasswordHasher => createPasswordHasher({ params: TEST_SCRYPT_PARAMS });

/**
 * buildTestApp, but with a cheap password hasher (passed explicitly through AppDeps) so suites
 * that sign up many owners stay fast. Pass `passwordHasher` to read its counter, or to use another cost.
 */
export const buildOwnerTestApp = (t: TestContext, options: Parameters<typeof buildTestApp>[1] = {}): Promise<TestApp> =>
  buildTestApp(t, { passwordHasher: createTestPasswordHasher(), ...options });

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export interface TestOwner {
  token: string;
  userId: string;
  email: string;
  password: string;
}

/** POST /v1/auth/signup with a unique e-mail; throws unless it answers 201. */
export const signUpOwner = async (app: FastifyInstance, credentials: { email?: string; password?: string } = {}): Promise<TestOwner> => {
  const email = credentials.email ?? `owner-${randomBytes(6).toString('hex')}@example.com`;
  const password = credentials.password ?? `pw-${randomBytes(12).toString('hex')}`;
  const response = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { email, password } });
  if (response.statusCode !== 201) throw new Error(`signup answered ${response.statusCode}: ${response.body}`);
  const body = response.json<{ token: string; user: { id: string; email: string } }>();
  return { token: body.token, userId: body.user.id, email: body.user.email, password };
};

/** A syntactically valid OpenAI key that is unique per call. */
export const fakeOpenAiApiKey = (): string => `sk-test-${randomBytes(16).toString('hex')}`;

export interface ConfigurationInput {
  faqText?: string;
  widgetColor?: string;
  openAiApiKey?: string;
  model?: string;
  greeting?: string;
  title?: string;
  fallbackText?: string;
  allowedOrigins?: string[];
  dailyMessageLimit?: number | null;
}

/**
 * PUT /v1/configuration with sensible defaults and the given overrides; throws unless 200/201.
 * Returns the response body (openAiApiKey masked) plus the plain key that was sent.
 */
export const configureOwner = async (
  app: FastifyInstance,
  token: string,
  overrides: ConfigurationInput = {},
): Promise<Record<string, unknown> & { openAiApiKeyPlain: string }> => {
  const openAiApiKey = overrides.openAiApiKey ?? fakeOpenAiApiKey();
  const payload = { faqText: 'Q: What are your opening hours?\nA: Monday to Friday, 9:00 to 17:00.', ...overrides, openAiApiKey };
  const response = await app.inject({ method: 'PUT', url: '/v1/configuration', headers: bearer(token), payload });
  if (response.statusCode !== 200 && response.statusCode !== 201) throw new Error(`PUT /v1/configuration answered ${response.statusCode}: ${response.body}`);
  return { ...response.json<Record<string, unknown>>(), openAiApiKeyPlain: openAiApiKey };
};

export interface TestWidgetKey {
  key: string;
  status: 'ACTIVE' | 'REVOKED';
  createdAt: string;
  lastUsedAt: string | null;
  snippet: string;
}

/** POST /v1/api-key; throws unless 201. The owner must be configured first. */
export const createWidgetKey = async (app: FastifyInstance, token: string): Promise<TestWidgetKey> => {
  const response = await app.inject({ method: 'POST', url: '/v1/api-key', headers: bearer(token) });
  if (response.statusCode !== 201) throw new Error(`POST /v1/api-key answered ${response.statusCode}: ${response.body}`);
  return response.json<TestWidgetKey>();
};

/** Sign up, configure (with overrides) and create a widget key: the usual start of a widget test. */
export const createConfiguredOwner = async (
  app: FastifyInstance,
  overrides: ConfigurationInput = {},
): Promise<TestOwner & { key: string; openAiApiKey: string; widgetKey: TestWidgetKey }> => {
  const owner = await signUpOwner(app);
  const configuration = await configureOwner(app, owner.token, overrides);
  const widgetKey = await createWidgetKey(app, owner.token);
  return { ...owner, key: widgetKey.key, openAiApiKey: configuration.openAiApiKeyPlain, widgetKey };
};

/**
 * Bodies for property tests of a JSON route: any JSON value, objects with the route's keys
 * holding any JSON, objects with plausible values (`shape`) plus stray keys, and — given a
 * `valid` body — that body with one field replaced by a plausible value.
 */
export const arbitraryJsonBody = (shape: Record<string, fc.Arbitrary<unknown>>, valid?: Record<string, unknown>): fc.Arbitrary<unknown> => {
  const anyValues = Object.fromEntries(Object.keys(shape).map((key) => [key, fc.jsonValue()]));
  // A valid body with one field replaced: reaches the service and the database, where a 5xx would hide.
  const oneBadField = fc
    .constantFrom(...Object.keys(shape))
    .chain((key) => shape[key]!.map((value) => ({ ...valid, [key]: value })));
  return fc.oneof(
    ...(valid ? [oneBadField, oneBadField] : []),
    fc.jsonValue(),
    fc.record(anyValues, { requiredKeys: [] }),
    fc.record(shape, { requiredKeys: [] }),
    fc.record(shape),
    fc.tuple(fc.record(shape), fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 })).map(([body, extra]) => ({ ...extra, ...body })),
  );
};

/** Strings that stress storage and parsing: NUL, lone surrogates, emoji, very long. */
export const awkwardString = (): fc.Arbitrary<string> =>
  fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('\u0000', '\ud800', 'a\u0000b', ' ', 'x'.repeat(5000)));
