import fc from 'fast-check';
import t from 'tap';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { arbitraryJsonBody, awkwardString, bearer, buildOwnerTestApp, configureOwner, createWidgetKey, signUpOwner } from '../helpers/owner.js';
import { startFakeOpenAi } from '../support/fake-openai.js';

// Every route, owner and public, with arbitrary bodies, query strings and headers: never a 5xx,
// and every 4xx is a problem+json body. In-process (app.inject) on PGlite, against the fake upstream.
const RUNS_PER_ROUTE = 120;

/** Header values a real HTTP parser lets through: printable ASCII (and tab). */
const headerValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e\t]{0,80}$/),
  fc.constantFrom('', ' ', 'null', '*', 'undefined', 'a'.repeat(4000), 'Bearer', 'Bearer ', 'gzip;q=0', 'W/"x"', '"x", *'),
);

const pathSegment = fc.oneof(
  fc.uuid(),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('', '..', '%00', '%ZZ', "1' or '1'='1", 'a'.repeat(300), '00000000-0000-0000-0000-000000000000'),
);

const queryValue = fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), fc.double().map(String), fc.constantFrom('', '-1', '0', '1e9', 'NaN', 'null'));

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/problem+json',
  'text/event-stream',
);

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
  /** Path with :param placeholders. */
  path: string;
  query?: string[];
  body?: fc.Arbitrary<unknown>;
  /** Which credential the route takes. */
  auth: 'owner' | 'widget' | 'none';
  /** Routes that would end the session or the key under test are fuzzed with wrong credentials only. */
  destructive?: boolean;
}

t.test('no input on any route answers 5xx', async (t) => {
  const fake = await startFakeOpenAi({ reply: 'An answer.', deltas: 2 });
  t.teardown(() => fake.close());
  const testApp = await buildOwnerTestApp(t, {
    env: { LOG_LEVEL: 'silent', OPENAI_BASE_URL: `${fake.url}/v1`, RATE_LIMIT_VISITOR_PER_MINUTE: '1000000', RATE_LIMIT_KEY_PER_MINUTE: '1000000' },
  });
  const { app } = testApp;
  const owner = await signUpOwner(app);
  await configureOwner(app, owner.token);
  await createWidgetKey(app, owner.token);
  const widget = await createWidgetOwner(testApp);
  // A conversation of the widget owner, so restore and admin reads meet real rows too.
  const opened = await app.inject({ method: 'POST', url: '/v1/widget/chat', headers: { 'x-widget-key': widget.key }, payload: { message: 'hello', visitorId: 'visitor-fuzz-1' } });
  t.equal(opened.statusCode, 200);
  const conversationId = opened.json<{ conversationId: string }>().conversationId;

  const ownerAuth = fc.oneof(
    { weight: 3, arbitrary: fc.constant(bearer(owner.token)) },
    headerValue.map((value) => ({ authorization: value })),
    headerValue.map((value) => ({ authorization: `Bearer ${value}` })),
    fc.constant({}),
  );
  const wrongOwnerAuth = fc.oneof(headerValue.map((value) => ({ authorization: `Bearer ${value}x` })), fc.constant({}));
  const widgetAuth = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ 'x-widget-key': widget.key }) },
    headerValue.map((value) => ({ 'x-widget-key': value })),
    fc.constant({ 'x-widget-key': 'pk_unknownunknown' }),
    fc.constant({}),
  );
  const email = fc.oneof(fc.emailAddress(), awkwardString());
  const configuration = {
    faqText: awkwardString(),
    widgetColor: fc.oneof(fc.constantFrom('#fff', '#abcdef', 'red'), awkwardString()),
    openAiApiKey: fc.oneof(awkwardString(), fc.stringMatching(/^sk-[A-Za-z0-9_-]{17,40}$/)),
    model: awkwardString(),
    title: awkwardString(),
    greeting: awkwardString(),
    fallbackText: awkwardString(),
    allowedOrigins: fc.oneof(fc.array(fc.oneof(fc.webUrl(), awkwardString()), { maxLength: 5 }), fc.jsonValue()),
    dailyMessageLimit: fc.oneof(fc.integer(), fc.double(), fc.constant(null)),
  };
  const chatBody = arbitraryJsonBody(
    {
      message: awkwardString(),
      conversationId: fc.oneof(fc.constant(conversationId), fc.uuid(), awkwardString()),
      visitorId: fc.oneof(fc.constant('visitor-fuzz-1'), awkwardString()),
    },
    { message: 'When do you open?', visitorId: 'visitor-fuzz-1' },
  );

  const routes: Route[] = [
    { method: 'POST', path: '/v1/auth/signup', auth: 'none', body: arbitraryJsonBody({ email, password: awkwardString() }) },
    { method: 'POST', path: '/v1/auth/login', auth: 'none', body: arbitraryJsonBody({ email: fc.oneof(fc.constant(owner.email), email), password: awkwardString() }) },
    { method: 'POST', path: '/v1/auth/logout', auth: 'owner', destructive: true },
    { method: 'GET', path: '/v1/me', auth: 'owner' },
    { method: 'DELETE', path: '/v1/me', auth: 'owner', destructive: true },
    { method: 'GET', path: '/v1/configuration', auth: 'owner' },
    { method: 'PUT', path: '/v1/configuration', auth: 'owner', body: arbitraryJsonBody(configuration) },
    { method: 'PATCH', path: '/v1/configuration', auth: 'owner', body: arbitraryJsonBody(configuration) },
    { method: 'POST', path: '/v1/api-key', auth: 'owner' },
    { method: 'GET', path: '/v1/api-key', auth: 'owner' },
    { method: 'POST', path: '/v1/api-key/rotate', auth: 'owner' },
    { method: 'DELETE', path: '/v1/api-key', auth: 'owner', destructive: true },
    { method: 'GET', path: '/v1/conversations', auth: 'owner', query: ['limit', 'cursor'] },
    { method: 'GET', path: '/v1/conversations/:id', auth: 'owner' },
    { method: 'GET', path: '/v1/usage', auth: 'owner', query: ['days'] },
    { method: 'GET', path: '/health', auth: 'none' },
    { method: 'GET', path: '/health/db', auth: 'none' },
    { method: 'GET', path: '/widget.js', auth: 'none' },
    { method: 'GET', path: '/demo', auth: 'none', query: ['key'] },
    { method: 'GET', path: '/v1/widget/config', auth: 'widget', query: ['key'] },
    { method: 'POST', path: '/v1/widget/chat', auth: 'widget', query: ['key'], body: chatBody },
    { method: 'GET', path: '/v1/widget/conversations/:id', auth: 'widget', query: ['key', 'visitorId'] },
    { method: 'OPTIONS', path: '/v1/widget/chat', auth: 'none', query: ['key'] },
    { method: 'GET', path: '/v1/nope/:id', auth: 'none' },
  ];

  let total = 0;
  const withoutProblem = new Set<string>();
  for (const route of routes) {
    const credentials =
      route.auth === 'owner' ? (route.destructive ? wrongOwnerAuth : ownerAuth) : route.auth === 'widget' ? widgetAuth : fc.constant({});
    const query = fc.dictionary(fc.oneof(fc.constantFrom(...(route.query ?? ['x'])), fc.string({ maxLength: 10 })), queryValue, { maxKeys: 3 });
    const path = route.path.includes(':id')
      ? fc.oneof(fc.constant(conversationId), pathSegment).map((id) => route.path.replace(':id', id))
      : fc.constant(route.path);
    const payload = fc.oneof(
      { weight: 3, arbitrary: (route.body ?? fc.jsonValue()).map((body) => JSON.stringify(body)) },
      fc.string({ maxLength: 200 }),
      fc.constantFrom('', '{', 'null', '[]', '{"message":', '\u0000', '{"__proto__":{"x":1}}'),
      fc.constant(undefined),
    );
    const extraHeaders = fc.record(
      {
        'content-type': contentType,
        accept: fc.constantFrom('text/event-stream', 'application/json', '*/*', 'text/html', ''),
        origin: fc.oneof(fc.webUrl().map((url) => new URL(url).origin), headerValue),
        'accept-encoding': fc.constantFrom('gzip', 'identity', 'br', 'gzip;q=0', '*'),
        'if-none-match': headerValue,
        'x-forwarded-for': headerValue,
        'x-request-id': headerValue,
        'access-control-request-method': fc.constantFrom('POST', 'GET', 'DELETE'),
      },
      { requiredKeys: [] },
    );

    await fc.assert(
      fc.asyncProperty(path, query, credentials, extraHeaders, payload, async (url, params, auth, headers, body) => {
        const search = new URLSearchParams(params).toString();
        const response = await app.inject({
          method: route.method,
          url: `${url}${search ? `?${search}` : ''}`,
          headers: { ...headers, ...auth },
          ...(body !== undefined && route.method !== 'GET' && route.method !== 'OPTIONS' ? { payload: body } : {}),
        });
        if (response.statusCode >= 500) {
          throw new Error(`${route.method} ${url}?${search} ${JSON.stringify(headers)} ${String(body).slice(0, 300)} → ${response.statusCode} ${response.body.slice(0, 300)}`);
        }
        if (response.statusCode >= 400) {
          const isProblem = String(response.headers['content-type']).startsWith('application/problem+json');
          const problem = isProblem ? response.json<{ status: number; code: string }>() : undefined;
          if (!problem || problem.status !== response.statusCode || typeof problem.code !== 'string') {
            const shape = `${route.method} ${route.path} → ${response.statusCode} ${response.body.slice(0, 80)}`;
            if (withoutProblem.size < 20) withoutProblem.add(shape.replace(/'[^']*'/g, "'…'"));
          }
        }
      }),
      { numRuns: RUNS_PER_ROUTE },
    );
    total += RUNS_PER_ROUTE;
    t.pass(`${route.method} ${route.path}: ${RUNS_PER_ROUTE} inputs, no 5xx`);
  }
  t.ok(total >= 2500, `${total} cases in total`);
  // Router-level rejections (a path parameter over maxParamLength → 414, a malformed %-escape → 400) included.
  t.same([...withoutProblem], [], 'every 4xx is a problem+json body');
  const health = await app.inject({ method: 'GET', url: '/health/db' });
  t.equal(health.statusCode, 200, 'the app still works afterwards');
});
